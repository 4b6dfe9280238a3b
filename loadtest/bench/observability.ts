/**
 * `pnpm bench observability`: what metrics and traces cost, against a real
 * messenger and Facebook side on embedded PostgreSQL (temp folder, 127.0.0.1).
 *
 *  1. Queue depth: `count(*)` on `envelopes` against the statistics read the
 *     /metrics gauge uses, at --envelopes rows (default 1,000,000), and the cost
 *     of a whole uncached /metrics scrape with --outbox unshipped share events.
 *  2. Tracing: wall time to ship --events share events (default 20,000) through
 *     the shipper into ingest, tracing off vs on (SDK with a discarding exporter),
 *     alternated --rounds times in one process; medians and the ratio.
 *
 *   pnpm bench observability [--envelopes 1000000] [--outbox 200000] [--events 20000] [--rounds 3]
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { ensureDatabase, startEmbeddedPostgres } from "@handshake/db/embedded";
import { createFacebookServer } from "@handshake/facebook/server";
import { createMessengerServer } from "@handshake/messenger/server";
import { createLogger } from "@handshake/messenger/log";
import { startTracing } from "@handshake/observability";

const { values } = parseArgs({
  options: {
    envelopes: { type: "string", default: "1000000" },
    outbox: { type: "string", default: "200000" },
    events: { type: "string", default: "20000" },
    rounds: { type: "string", default: "3" },
  },
});
const envelopes = Math.min(5_000_000, Number(values.envelopes));
const outboxRows = Math.min(2_000_000, Number(values.outbox));
const events = Math.min(200_000, Number(values.events));
const rounds = Math.min(10, Number(values.rounds));
const TOKEN = "bench-service-token-0123456789";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts spans and drops them: the SDK's cost without an exporter's I/O. */
class DiscardingExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.spans += spans.length;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

const scratch = await mkdtemp(path.join(tmpdir(), "handshake-bench-observability-"));
await chmod(scratch, 0o755);
const pg = await startEmbeddedPostgres({ dataDir: path.join(scratch, "pg") });
const logger = createLogger({ level: "warn" });
try {
  const facebook = await createFacebookServer({
    databaseUrl: await ensureDatabase(pg.url, "bench_obs_facebook"),
    serviceToken: TOKEN,
    logger: logger as never,
  });
  const { url: facebookUrl } = await facebook.listen(0);
  const messenger = await createMessengerServer({
    databaseUrl: await ensureDatabase(pg.url, "bench_obs_messenger"),
    serviceToken: TOKEN,
    facebookUrl,
    logger,
    rateLimits: false,
  });
  const { url } = await messenger.listen(0);
  const origin = url.replace(/\/trpc$/, "");
  const { sql } = messenger.services;
  const shipper = messenger.services.share.shipper!;

  // 1. Queue depth and scrape cost.
  console.log(`inserting ${envelopes.toLocaleString("en-US")} envelopes…`);
  await sql`
    insert into envelopes (recipient_shard, recipient_account_id, recipient_device_id, sender_account_id, sender_device_id,
                           message_id, type, content, server_timestamp, expires_at)
    select i % 10000, gen_random_uuid(), 1, gen_random_uuid(), 1, gen_random_uuid(), 1, '\\x00'::bytea, now(), now() + interval '30 days'
    from generate_series(1, ${envelopes}) i`;
  await sleep(1_500); // statistics flush
  const countMs: number[] = [];
  const statsMs: number[] = [];
  let counted = 0;
  let estimated = 0;
  for (let i = 0; i < 5; i++) {
    countMs.push(
      await timed(async () => {
        const [row] = await sql<{ n: number }[]>`select count(*)::int as n from envelopes`;
        counted = row!.n;
      }),
    );
    statsMs.push(
      await timed(async () => {
        const [row] = await sql<{ n: string }[]>`select n_live_tup::text as n from pg_stat_user_tables where relname = 'envelopes' and schemaname = current_schema()`;
        estimated = Number(row!.n);
      }),
    );
  }
  // A backlog that stays: the shipper is stopped while the scrapes read it.
  await shipper.stop();
  await sql`
    insert into share_outbox (account_id, sequence, kind, occurred_at, payload)
    select gen_random_uuid(), 1, 'consent', now(), '{"fields":{}}' from generate_series(1, ${outboxRows})`;
  const scrapeMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    await sleep(1_100); // past the 1 s sample cache: every scrape reads the database
    scrapeMs.push(await timed(async () => (await fetch(`${origin}/metrics`)).text()));
  }
  console.log(`\nqueue depth at ${envelopes.toLocaleString("en-US")} envelopes (median of 5):`);
  console.log(`  select count(*)                 ${median(countMs).toFixed(1)} ms   (${counted.toLocaleString("en-US")})`);
  console.log(`  pg_stat_user_tables.n_live_tup  ${median(statsMs).toFixed(2)} ms   (${estimated.toLocaleString("en-US")})`);
  console.log(`  whole /metrics scrape, uncached, ${outboxRows.toLocaleString("en-US")} unshipped outbox rows: ${median(scrapeMs).toFixed(1)} ms`);
  await sql`delete from share_outbox`;

  // 2. Tracing overhead on the share pipeline.
  await shipper.start();
  const exporter = new DiscardingExporter();
  const drainMs: Record<"off" | "on", number[]> = { off: [], on: [] };
  for (let round = 0; round < rounds * 2; round++) {
    const mode = round % 2 === 0 ? "off" : "on";
    const tracing = mode === "on" ? startTracing({ serviceName: "bench", exporter }) : null;
    await sql`
      insert into share_outbox (account_id, sequence, kind, occurred_at, payload)
      select gen_random_uuid(), 1, 'consent', now(),
             '{"fields":{"lastSeen":{"value":"2016-08-26T09:00:00.000Z","purposes":["product"]}}}'
      from generate_series(1, ${events})`;
    drainMs[mode].push(await timed(() => shipper.drained(120_000)));
    await tracing?.shutdown();
  }
  const off = median(drainMs.off);
  const on = median(drainMs.on);
  console.log(`\nshipping ${events.toLocaleString("en-US")} share events into ingest (batches of 500), median of ${rounds}, alternated:`);
  console.log(`  tracing off  ${off.toFixed(0)} ms  (${((events / off) * 1000).toFixed(0)} events/s)   runs: ${drainMs.off.map((v) => v.toFixed(0)).join(", ")}`);
  console.log(`  tracing on   ${on.toFixed(0)} ms  (${((events / on) * 1000).toFixed(0)} events/s)   runs: ${drainMs.on.map((v) => v.toFixed(0)).join(", ")}`);
  console.log(`  on / off     ${(on / off).toFixed(3)}   spans exported: ${exporter.spans.toLocaleString("en-US")}`);
  await messenger.close();
  await facebook.close();
} finally {
  await pg.stop();
  await rm(scratch, { recursive: true, force: true });
}
