/**
 * The messenger's Prometheus metrics (prom-client), one registry per server so
 * tests can run several in one process. Nothing here sits on the hot path:
 * counters are read at scrape time from counts the writer, the bus and the
 * shipper already keep (`collect`), and the figures that live in the database
 * (queue depth, outbox lag) are sampled at most once a second for all scrapes.
 *
 * Queue depth is PostgreSQL's live-row estimate of `envelopes`
 * (`pg_stat_user_tables.n_live_tup`): O(1) whatever the table's size, exact
 * between vacuums up to the statistics' flush delay (~1 s), and the same on every
 * node (the queue is shared). `count(*)` grows with the table (see README,
 * "Metrics", for the measurement).
 *
 * Several nodes: every series carries a `node` label (NODE_ID). Each node serves
 * its own at `/metrics`; `cluster.ts` also serves all of its workers' series on
 * one page (METRICS_PORT, prom-client's AggregatorRegistry): see README.
 */
import type postgres from "postgres";
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import { SampledFigure } from "@handshake/observability";
import type { InboxBus } from "../relay/bus";
import type { ShareShipper } from "../share/shipper";
import type { QueueWriter } from "../storage/queue";

export interface MessengerMetricSources {
  sql: postgres.Sql;
  writer: Pick<QueueWriter, "stats">;
  /** The databases holding queues (every shard database); default: `sql`. */
  queueDatabases?: readonly postgres.Sql[];
  bus: InboxBus;
  /** Open WebSocket connections. */
  connections: () => number;
  shipper: ShareShipper | null;
  nodeId: string | null;
  onError: (err: unknown) => void;
}

/** Outbox backlogs up to this are counted exactly; larger ones are read from the id range (an upper bound). */
export const OUTBOX_EXACT_UP_TO = 10_000;

/** A counter whose value is read from a running count at scrape time. */
function readCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

export function createMessengerMetrics(src: MessengerMetricSources): Registry {
  const registry = new Registry();
  if (src.nodeId) registry.setDefaultLabels({ node: src.nodeId });
  collectDefaultMetrics({ register: registry });
  const { writer, bus, shipper, sql } = src;

  readCounter(registry, "messenger_messages_stored_total", "Messages stored in the queue (first copies; duplicates not counted).", () => writer.stats.stored);
  readCounter(
    registry,
    "messenger_messages_delivered_total",
    "Messages delivered: acknowledged by the recipient device and removed from its queue (delivery receipts not counted).",
    () => writer.stats.delivered,
  );
  readCounter(registry, "messenger_receipts_stored_total", "Server delivery receipts queued for senders (one per delivered message).", () => writer.stats.receipts);
  readCounter(registry, "messenger_writer_batches_total", "Transactions the queue writer committed.", () => writer.stats.batches);
  readCounter(
    registry,
    "messenger_writer_batches_abandoned_total",
    "Queue-writer batches left unanswered past their deadline (their callers were told to retry).",
    () => writer.stats.abandoned,
  );
  readCounter(registry, "messenger_bus_publishes_total", "Notices the inbox bus published (NATS: messages sent to the server).", () => bus.stats?.published ?? 0);
  readCounter(registry, "messenger_bus_publish_failures_total", "Bus publishes that failed (the database fallback then delivers).", () => bus.stats?.publishFailures ?? 0);
  readCounter(registry, "messenger_share_events_shipped_total", "Share events Facebook's ingest acknowledged.", () => shipper?.stats.shipped ?? 0);
  readCounter(registry, "messenger_share_ship_failures_total", "Failed attempts to ship a batch of share events.", () => shipper?.stats.failures ?? 0);

  new Gauge({
    name: "messenger_websocket_connections",
    help: "Open WebSocket connections on this node.",
    registers: [registry],
    collect() {
      this.set(src.connections());
    },
  });
  new Gauge({
    name: "messenger_inbox_stream_devices",
    help: "Devices with at least one open inbox stream on this node.",
    registers: [registry],
    collect() {
      this.set(bus.connectedDevices());
    },
  });

  const depth = new SampledFigure(
    async () => {
      // Every shard database holds envelopes of its own recipients.
      let live = 0;
      for (const database of src.queueDatabases ?? [sql]) {
        const [row] = await database<{ live: string | null }[]>`
          select n_live_tup::text as live from pg_stat_user_tables where relname = 'envelopes' and schemaname = current_schema()`;
        live += Number(row?.live ?? 0);
      }
      return live;
    },
    0,
    1_000,
    src.onError,
  );
  new Gauge({
    name: "messenger_queue_depth",
    help: "Envelopes queued for delivery, all nodes (PostgreSQL's live-row estimate of envelopes; flushed about once a second).",
    registers: [registry],
    aggregator: "max",
    async collect() {
      this.set(await depth.get());
    },
  });

  const outbox = new SampledFigure(
    async () => {
      // Exact while the backlog is small; beyond that the id range (the shipper ships in id
      // order, so what lies above the oldest unshipped id is unshipped but for gaps): two
      // index lookups however large the backlog grows while Facebook is down.
      const [row] = await sql<{ counted: number; oldest_id: string | null; newest_id: string | null; age: number | null }[]>`
        with oldest as (select id, created_at from share_outbox where shipped_at is null order by id limit 1)
        select (select count(*)::int from (select 1 from share_outbox where shipped_at is null limit ${OUTBOX_EXACT_UP_TO + 1}) p) as counted,
               (select id::text from oldest) as oldest_id,
               (select max(id)::text from share_outbox) as newest_id,
               (select extract(epoch from now() - created_at)::float8 from oldest) as age`;
      const counted = row?.counted ?? 0;
      const pending =
        counted <= OUTBOX_EXACT_UP_TO || row?.oldest_id == null || row.newest_id == null
          ? counted
          : Number(BigInt(row.newest_id) - BigInt(row.oldest_id) + 1n);
      return { pending, age: row?.age ?? 0 };
    },
    { pending: 0, age: 0 },
    1_000,
    src.onError,
  );
  new Gauge({
    name: "messenger_share_outbox_pending",
    help: `Share events not yet acknowledged by Facebook (exact up to ${OUTBOX_EXACT_UP_TO}, then from the id range).`,
    registers: [registry],
    aggregator: "max",
    async collect() {
      this.set((await outbox.get()).pending);
    },
  });
  new Gauge({
    name: "messenger_share_outbox_lag_seconds",
    help: "Age of the oldest unshipped share event (0 when none is waiting).",
    registers: [registry],
    aggregator: "max",
    async collect() {
      this.set((await outbox.get()).age);
    },
  });
  return registry;
}
