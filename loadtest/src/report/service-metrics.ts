/**
 * The services' own figures beside k6's: the runner scrapes each service's
 * Prometheus `/metrics` before and after the run, and the report prints what
 * moved (counters: after − before) and where the gauges ended. k6 says what the
 * clients saw; these say what the servers did (messages stored and delivered,
 * the share outbox's backlog and lag, Facebook's ingest). A service that cannot
 * be scraped (an older build, a METRICS_TOKEN not given) is named, not zeroed.
 */
import { scrapeMetrics, sumOf, type Sample } from "@handshake/observability/scrape";

export interface ServiceScrape {
  service: "messenger" | "facebook";
  /** null when the scrape failed; `error` says why. */
  samples: Sample[] | null;
  error?: string;
}

export interface ServiceTargets {
  messenger: string;
  facebook?: string | undefined;
  /** Sent as Bearer when the services have METRICS_TOKEN set. */
  token?: string | undefined;
}

export async function scrapeServices(targets: ServiceTargets): Promise<ServiceScrape[]> {
  const one = async (service: ServiceScrape["service"], base: string): Promise<ServiceScrape> => {
    try {
      return { service, samples: await scrapeMetrics(base, { token: targets.token ?? null }) };
    } catch (error) {
      return { service, samples: null, error: error instanceof Error ? error.message : String(error) };
    }
  };
  return Promise.all([one("messenger", targets.messenger), ...(targets.facebook ? [one("facebook", targets.facebook)] : [])]);
}

const n = (v: number) => (Number.isInteger(v) ? v.toLocaleString("en-US") : v.toFixed(2));

/** Rows [label, value] for the report: counter deltas and final gauges, per service scraped. */
export function serviceRows(before: ServiceScrape[], after: ServiceScrape[]): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  for (const end of after) {
    const start = before.find((b) => b.service === end.service);
    if (!end.samples || !start?.samples) {
      rows.push([`${end.service} /metrics`, `not read: ${end.error ?? start?.error ?? "no scrape before the run"}`]);
      continue;
    }
    const a = end.samples;
    const b = start.samples;
    const delta = (name: string, labels: Record<string, string> = {}) => sumOf(a, name, labels) - sumOf(b, name, labels);
    // Database-wide gauges appear once per node under cluster.ts: take the largest.
    const gauge = (s: Sample[], name: string) => Math.max(0, ...s.filter((x) => x.name === name).map((x) => x.value));
    if (end.service === "messenger") {
      rows.push(
        ["server: messages stored / delivered (acked)", `${n(delta("messenger_messages_stored_total"))} / ${n(delta("messenger_messages_delivered_total"))}`],
        ["server: delivery receipts stored", n(delta("messenger_receipts_stored_total"))],
        ["server: queue depth before → after", `${n(gauge(b, "messenger_queue_depth"))} → ${n(gauge(a, "messenger_queue_depth"))}`],
        ["server: bus publishes / failures", `${n(delta("messenger_bus_publishes_total"))} / ${n(delta("messenger_bus_publish_failures_total"))}`],
        [
          "server: share events shipped / failed attempts",
          `${n(delta("messenger_share_events_shipped_total"))} / ${n(delta("messenger_share_ship_failures_total"))}`,
        ],
        [
          "server: share outbox pending, oldest age (after)",
          `${n(gauge(a, "messenger_share_outbox_pending"))}, ${n(gauge(a, "messenger_share_outbox_lag_seconds"))} s`,
        ],
      );
    } else {
      const lagCount = delta("facebook_ingest_lag_seconds_count");
      rows.push(
        [
          "server: ingest batches / events accepted / duplicates",
          `${n(delta("facebook_ingest_batches_total"))} / ${n(delta("facebook_ingest_events_total", { result: "accepted" }))} / ${n(delta("facebook_ingest_events_total", { result: "duplicate" }))}`,
        ],
        ["server: ingest lag, mean", lagCount > 0 ? `${n(delta("facebook_ingest_lag_seconds_sum") / lagCount)} s over ${n(lagCount)} batches` : "–"],
        ["server: audience calls (ok / all)", `${n(delta("facebook_audience_calls_total", { outcome: "ok" }))} / ${n(delta("facebook_audience_calls_total"))}`],
        ["server: refused calls", n(delta("facebook_refused_calls_total"))],
      );
    }
  }
  return rows;
}
