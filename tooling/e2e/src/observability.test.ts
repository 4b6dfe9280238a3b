/**
 * Metrics and traces across both services, wired as in production: a shipped
 * batch is one trace from the messenger's shipper into Facebook's ingest (W3C
 * traceparent over the typed tRPC client), and both `/metrics` pages agree on
 * how many share events moved. Spans are kept by an in-memory exporter.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { startTracing, type Tracing } from "@handshake/observability";
import { scrapeMetrics, sumOf, type Sample } from "@handshake/observability/scrape";
import { startPipeline, type Pipeline } from "./harness";

const ANNOUNCED = new Date("2016-08-25T00:00:00Z");
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let p: Pipeline;

beforeAll(async () => {
  tracing = startTracing({ serviceName: "handshake-e2e", exporter });
  p = await startPipeline({ regime: "optout-2016" });
}, 60_000);
afterAll(async () => {
  await p?.close();
  await tracing?.shutdown();
});

const origin = (trpcUrl: string) => trpcUrl.replace(/\/trpc$/, "");
const scope = (span: ReadableSpan) => span.instrumentationScope.name;

async function spansUntil(check: (spans: ReadableSpan[]) => boolean): Promise<ReadableSpan[]> {
  for (let i = 0; i < 100; i++) {
    const spans = exporter.getFinishedSpans();
    if (check(spans)) return spans;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the spans never arrived: ${exporter.getFinishedSpans().map((s) => `${scope(s)}:${s.name}`).join(", ")}`);
}

describe("metrics and traces across messenger → shipper → ingest", () => {
  it("a shipped batch is one trace in both services, and both /metrics count the same events", async () => {
    const messengerBefore = await scrapeMetrics(origin(p.messenger.url));
    const facebookBefore = await scrapeMetrics(origin(p.facebook!.url));
    await p.admin.admin.setClock.mutate({ at: new Date(ANNOUNCED.getTime() + 3600_000).toISOString() });
    const people = [await p.register("+919800000101"), await p.register("+919800000102")];
    for (const who of people) await who.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true });
    await people[0]!.api.message.send.mutate({
      messageId: randomUUID(),
      recipient: { accountId: people[1]!.accountId },
      type: 1,
      content: Buffer.from("opaque").toString("base64"),
    });
    const shipper = p.messenger.server.services.share.shipper!;
    await shipper.drained();
    const [{ events } = { events: 0 }] = await p.messenger.server.services.sql<{ events: number }[]>`
      select count(*)::int as events from share_outbox where shipped_at is not null`;
    expect(events).toBeGreaterThanOrEqual(3); // two consent snapshots and a usage event at least

    // Traces: each shipping span's client call is continued by Facebook's server span and its procedure span.
    const spans = await spansUntil((all) => all.some((s) => s.name === "share.ship") && all.some((s) => scope(s) === "handshake-facebook" && s.name === "ingest.batch"));
    const ships = spans.filter((s) => s.name === "share.ship" && scope(s) === "handshake-messenger");
    expect(ships.length).toBeGreaterThanOrEqual(1);
    for (const ship of ships) {
      const traceId = ship.spanContext().traceId;
      const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
      const call = inTrace.find((s) => s.kind === SpanKind.CLIENT && s.name === "trpc ingest.batch");
      const server = inTrace.find((s) => s.kind === SpanKind.SERVER && scope(s) === "handshake-facebook");
      const procedure = inTrace.find((s) => s.name === "ingest.batch" && scope(s) === "handshake-facebook");
      expect(call?.parentSpanContext?.spanId).toBe(ship.spanContext().spanId);
      expect(server?.parentSpanContext?.spanId).toBe(call!.spanContext().spanId);
      expect(server?.attributes["http.response.status_code"]).toBe(200);
      expect(procedure?.parentSpanContext?.spanId).toBe(server!.spanContext().spanId);
      expect(ship.attributes["share.events"]).toBeGreaterThan(0);
    }
    const shippedInSpans = ships.reduce((n, s) => n + Number(s.attributes["share.events"]), 0);

    // Metrics: the messenger shipped what Facebook accepted, in as many batches as spans.
    const messengerAfter = await scrapeMetrics(origin(p.messenger.url));
    const facebookAfter = await scrapeMetrics(origin(p.facebook!.url));
    const delta = (before: Sample[], after: Sample[], name: string, labels: Record<string, string> = {}) =>
      sumOf(after, name, labels) - sumOf(before, name, labels);
    expect(delta(messengerBefore, messengerAfter, "messenger_share_events_shipped_total")).toBe(events);
    expect(shippedInSpans).toBe(events);
    expect(delta(facebookBefore, facebookAfter, "facebook_ingest_events_total", { result: "accepted" })).toBe(events);
    expect(delta(facebookBefore, facebookAfter, "facebook_ingest_batches_total")).toBe(ships.length);
    expect(delta(facebookBefore, facebookAfter, "facebook_ingest_lag_seconds_count")).toBe(ships.length);
    expect(sumOf(messengerAfter, "messenger_share_outbox_pending")).toBe(0);
    expect(delta(messengerBefore, messengerAfter, "messenger_messages_stored_total")).toBe(1);
  });
});
