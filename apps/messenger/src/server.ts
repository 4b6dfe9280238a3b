/**
 * Builds a messenger: database (migrated), services, and one HTTP server that
 * serves tRPC over HTTP and WebSocket on the same port. `main.ts` wires it to the
 * environment; tests and the demo build one on port 0.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { WebSocketServer } from "ws";
import { createMessengerDb, rawClient, type SessionLimits } from "@handshake/db/client";
import { migrateDatabase } from "@handshake/db/migrate";
import { Authenticator } from "./auth/authenticate";
import { DeviceSockets } from "./auth/device-sockets";
import { SimulatedPhoneCarrier } from "./auth/phone-carrier";
import { expireVerifications } from "./storage/verification";
import { makeTimeline, serviceRefusal, type RegimeInput, type Timeline } from "@handshake/consent";
import { DEFAULT_SIM_START, SimClock, type Clock } from "./clock";
import { ClockFollower } from "./clock-follower";
import { loadSimClock } from "./storage/clock";
import { RateSampler } from "./metrics/rate-sampler";
import { LiveFigures } from "./dashboard/live-figures";
import { observed } from "./observability/http";
import { createMessengerMetrics } from "./observability/metrics";
import { SharePipeline } from "./share/pipeline";
import { RegulatoryWatch } from "./share/regulatory-dates";
import { ShipCheck } from "./share/ship-check";
import { ShareShipper, type ShipperOptions } from "./share/shipper";
import { ConsentStore } from "./storage/consent";
import { RegimeHistory } from "./storage/regimes";
import { LastSeenRecorder } from "./storage/last-seen";
import { RestrictionStore } from "./storage/restrictions";
import { createLogger, type Logger } from "./log";
import { RateLimiter, type RateLimitCatalogue } from "./rate-limits";
import { LocalInboxBus, type InboxBus } from "./relay/bus";
import { MissedDeliverySweep, type SweptBus } from "./relay/missed-delivery-sweep";
import { NatsInboxBus } from "./relay/nats-bus";
import { InboxPresence, type PresenceOptions, type ServiceGate } from "./relay/presence";
import { KeepAlive, type KeepAliveOptions } from "./relay/keep-alive";
import { SocketBudget, type SocketBudgetOptions } from "./relay/socket-budget";
import { appRouter } from "./root";
import { expireOld, QueueWriter, ShardedQueueWriter } from "./storage/queue";
import type { OutboxOptions } from "./storage/cross-database-outbox";
import { receiptOutbox, type ReceiptOutbox } from "./storage/receipt-outbox";
import { usageOutbox, type UsageOutbox } from "./storage/usage-outbox";
import { ShardDatabases } from "./shards/shard-databases";
import { singleDatabaseMap, type ShardMap } from "@handshake/db/messenger-shards";
import { createContext, MAX_BATCH_CALLS, serviceRefusedError, type MessengerServices } from "./trpc";

/** With several nodes, how long a node may serve a cached consent state (announcements drop it sooner). */
const CONSENT_CACHE_TTL_MS = 5_000;

/** Largest request body or WebSocket frame: a 64 KiB ciphertext in base64 plus envelope. */
export const MAX_REQUEST_BYTES = 256 * 1024;

export interface MessengerServerOptions {
  /** The one database (ignored with `shardMap`, whose databases are used instead). */
  databaseUrl: string;
  /**
   * Several PostgreSQL servers (shards/shard-map.ts): accounts, keys and queues
   * on the database of their shard, the rest on the map's home database.
   */
  shardMap?: ShardMap | null;
  /**
   * Defaults to the simulation clock stored in the database (created at
   * `simStart` on first run), which admins can move forward.
   */
  clock?: Clock;
  simStart?: Date;
  /** Consent regime (default `historical-2016`). */
  regime?: RegimeInput;
  /** Acceptance deadline and opt-out window (defaults: 30 days each). */
  timeline?: Timeline;
  /** Enables the admin procedures (clock control). */
  adminToken?: string | null;
  /** Required (Bearer) on `/metrics` when set; unset, `/metrics` is open (see README, "Metrics"). */
  metricsToken?: string | null;
  /** Shared secret with the Facebook side: shipping share events and receiving spam signals. */
  serviceToken?: string | null;
  /** Facebook's tRPC URL; without it the outbox fills but nothing is shipped. */
  facebookUrl?: string | null;
  /** Shipper tuning (tests shorten the backoff). */
  shipper?: Omit<ShipperOptions, "url" | "serviceToken">;
  logger?: Logger;
  /** Override limits (tests), or `false` to disable them (relay benchmarks only). */
  rateLimits?: Partial<RateLimitCatalogue> | false;
  shardCount?: number;
  /** Connections per database pool. */
  poolSize?: number;
  /**
   * How verification codes reach phones: `simulated` (default) delivers into the
   * simulated phone network that `phoneSimulator.readCode` reads (dev/test only);
   * `none` configures no carrier, so nobody can register.
   */
  phoneCarrier?: "simulated" | "none";
  /** How often expired envelopes are swept (real time). */
  expiryIntervalMs?: number;
  /** Relay limits: inbox streams per connection and device, unsent bytes per socket (tests shrink them). */
  relay?: {
    presence?: PresenceOptions;
    socketBudget?: SocketBudgetOptions;
    /** One sweep for every socket's PING/PONG (relay/keep-alive.ts); `trpcPerSocket` uses tRPC's timers per socket (to compare). */
    keepAlive?: KeepAliveOptions & { trpcPerSocket?: boolean };
  };
  /**
   * Several nodes: the NATS server(s) between them (relay/nats-bus.ts) and this
   * node's id. Without it the bus is in-process (one node).
   */
  nats?: { url: string; nodeId: string; subjectPrefix?: string; sweepIntervalMs?: number } | null;
  /** PostgreSQL's bounds on the messenger's sessions (default {@link DATABASE_SESSION_LIMITS}; tests shrink them). */
  databaseSessionLimits?: SessionLimits;
  /**
   * How often the missed-delivery sweep wakes streams whose envelopes were never
   * announced (relay/missed-delivery-sweep.ts; default 5 s; `nats.sweepIntervalMs` wins).
   */
  missedDeliverySweepMs?: number;
  /** With a shard map: how often each database's outboxes are swept, and the age they wait for (storage/cross-database-outbox.ts). */
  outboxes?: OutboxOptions;
  /** With several nodes: how often this node reads the stored simulation clock (default 250 ms, clock-follower.ts). */
  clockFollowMs?: number;
}

export interface MessengerServer {
  services: MessengerServices;
  http: Server;
  /** The WebSocket server (tests drop connections through it). */
  wss: WebSocketServer;
  /** The missed-delivery sweep (the bus's database fallback) on the home database. */
  sweep: MissedDeliverySweep | null;
  /** One missed-delivery sweep per shard database, by the map's name. */
  sweeps: Map<string, MissedDeliverySweep>;
  /** With a shard map: each database's outbox of receipts owed to senders on another, by the map's name. */
  receiptOutboxes: Map<string, ReceiptOutbox>;
  /** With a shard map: each database's (but home's) outbox of message counts owed to home's usage counters. */
  usageOutboxes: Map<string, UsageOutbox>;
  listen(port?: number, host?: string): Promise<{ url: string; wsUrl: string; port: number }>;
  /** Tells clients to reconnect elsewhere, stops accepting, drains writes, closes. */
  close(): Promise<void>;
}

/**
 * Bounds on every messenger session, enforced by PostgreSQL. The queue writer's
 * batches take milliseconds and wait only for another node's batch; a lock held
 * 10 s means a stuck session, and the batch fails (its callers retry with the same
 * ids) instead of every later message waiting behind it. A session idle inside a
 * transaction for 30 s (its client gone, or stuck) is ended, releasing what it holds.
 */
export const DATABASE_SESSION_LIMITS: SessionLimits = {
  statementTimeoutMs: 60_000,
  lockTimeoutMs: 10_000,
  idleInTransactionMs: 30_000,
};

export async function createMessengerServer(options: MessengerServerOptions): Promise<MessengerServer> {
  const logger = options.logger ?? createLogger();
  const map = options.shardMap ?? singleDatabaseMap(options.databaseUrl, options.shardCount ?? 10_000);
  // Every shard database carries the whole schema (the tables it does not use stay empty).
  for (const url of Object.values(map.databases)) await migrateDatabase(url, "messenger");
  const sessionLimits = { ...DATABASE_SESSION_LIMITS, ...options.databaseSessionLimits };
  const { db, sql, close: closeDb } = createMessengerDb(map.databases[map.home]!, {
    max: options.poolSize ?? 10,
    applicationName: "messenger",
    sessionLimits,
  });
  const pools = new Map<string, typeof sql>([[map.home, sql]]);
  for (const [name, url] of Object.entries(map.databases)) {
    if (name !== map.home) pools.set(name, rawClient(url, { max: options.poolSize ?? 10, applicationName: `messenger-${name}`, sessionLimits }));
  }
  const shards = new ShardDatabases(map, pools);
  const clock = options.clock ?? (await loadSimClock(sql, options.simStart ?? DEFAULT_SIM_START));
  const timeline = options.timeline ?? makeTimeline();
  const configuredRegime = options.regime ?? ("historical-2016" as RegimeInput);
  const regime = await RegimeHistory.load(sql, configuredRegime);
  // Several nodes: cached consent also expires, in case an announcement of a change is lost.
  const consent = new ConsentStore(sql, { regimeAt: (at) => regime.at(at), timeline }, options.nats ? { cacheTtlMs: CONSENT_CACHE_TTL_MS } : {});
  const shipper =
    options.facebookUrl && options.serviceToken
      ? new ShareShipper(
          sql,
          { url: options.facebookUrl, serviceToken: options.serviceToken, ...options.shipper },
          logger,
          new ShipCheck(consent, (at) => regime.at(at), clock),
        )
      : null;
  const share = new SharePipeline(sql, consent, regime, logger, shipper);
  // The configured regime applies from start-up; a change since the last run is recorded as a switch.
  if (!regime.recorded() || JSON.stringify(regime.current) !== JSON.stringify(configuredRegime)) {
    await share.switchRegime(configuredRegime, clock.now());
  }
  let bus: InboxBus & SweptBus;
  if (options.nats) {
    const natsBus = await NatsInboxBus.connect({ ...options.nats, logger });
    // A choice recorded on one node drops the others' cached state of that account.
    consent.onRecorded = (accountId) => natsBus.announceConsentChange(accountId);
    natsBus.onConsentChange((accountId) => consent.invalidate(accountId));
    bus = natsBus;
  } else {
    bus = new LocalInboxBus();
  }
  // The database fallback of every notice, on one node too: a commit whose reply was
  // lost (or whose wake-up ran before the commit became visible) announced nothing,
  // and its recipient's stream would wait for the next notice. Ids are ordered per
  // database, so each database gets its own (settled, pending) window.
  const sweeps = new Map<string, MissedDeliverySweep>();
  const sweepIntervalMs = options.nats?.sweepIntervalMs ?? options.missedDeliverySweepMs;
  for (const database of shards.all) {
    const sweep = new MissedDeliverySweep(database.sql, bus, logger.child({ database: database.name }), sweepIntervalMs);
    await sweep.start();
    sweeps.set(database.name, sweep);
  }
  const nodeId = options.nats?.nodeId ?? null;
  const presence = new InboxPresence(serviceGate(consent, clock, timeline), logger, options.relay?.presence);
  const socketBudget = new SocketBudget(logger, options.relay?.socketBudget);
  const writers = new Map<string, QueueWriter>();
  const writer = new ShardedQueueWriter(writers, (accountId) => shards.forAccount(accountId).name);
  // With a shard map, per database: receipts owed to senders on another database, and
  // (other than home) message counts owed to home's usage counters (storage/cross-database-outbox.ts).
  const receiptOutboxes = new Map<string, ReceiptOutbox>();
  const usageOutboxes = new Map<string, UsageOutbox>();
  if (shards.sharded) {
    for (const database of shards.all) {
      const log = logger.child({ database: database.name });
      const receipts = receiptOutbox(database.sql, writer, log, options.outboxes);
      receipts.start();
      receiptOutboxes.set(database.name, receipts);
      if (database === shards.home) continue;
      const usage = usageOutbox(database, sql, (tx, perSender, at) => share.onMessagesStored(tx, perSender, at), log, options.outboxes);
      usage.start();
      usageOutboxes.set(database.name, usage);
    }
  }
  for (const database of shards.all) {
    const onHome = database === shards.home;
    writers.set(
      database.name,
      new QueueWriter(database.sql, bus, clock, logger, {
        deadlineMs: (sessionLimits.lockTimeoutMs ?? 10_000) + (sessionLimits.statementTimeoutMs ?? 60_000) + 5_000,
        ...(onHome
          ? { afterStore: (tx, counts, at) => share.onUsageCounted(tx, counts, at) }
          : // Usage counters and their share events live on home: owed here, added there after the commit.
            { forwardUsage: (owed) => usageOutboxes.get(database.name)!.forward(owed) }),
        ...(shards.sharded ? { forwardReceipts: (receipts) => receiptOutboxes.get(database.name)!.forward(receipts) } : {}),
      }),
    );
  }
  const limiter = options.rateLimits === false ? new RateLimiter(sql, {}, false) : new RateLimiter(sql, options.rateLimits);
  const services: MessengerServices = {
    db,
    sql,
    clock,
    bus,
    presence,
    socketBudget,
    writer,
    shards,
    limiter,
    lastSeen: new LastSeenRecorder(shards.sqlFor, logger),
    authenticator: new Authenticator(sql, { sqlFor: shards.sqlFor }),
    deviceSockets: new DeviceSockets(),
    carrier: options.phoneCarrier === "none" ? null : new SimulatedPhoneCarrier(sql),
    logger,
    shardCount: map.shardCount,
    consent,
    regime,
    timeline,
    adminToken: options.adminToken ?? null,
    serviceToken: options.serviceToken ?? null,
    share,
    regulatory: new RegulatoryWatch(sql, consent, (at) => regime.at(at)),
    restrictions: new RestrictionStore(sql),
    rates: new RateSampler(),
    liveOverview: new LiveFigures({ onError: (err: unknown) => logger.error({ err }, "dashboard figures could not be read") }),
  };
  await shipper?.start();
  // Regulators' dates the clock passed while the service was down apply now (each once).
  await services.regulatory.check(clock.now());

  const onError = ({ error, path }: { error: { code: string; message: string }; path?: string | undefined }) => {
    if (error.code === "INTERNAL_SERVER_ERROR") logger.error({ path, err: error }, "procedure failed");
  };
  const trpcHandler = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    maxBodySize: MAX_REQUEST_BYTES,
    maxBatchSize: MAX_BATCH_CALLS,
    createContext: (opts) => createContext(services, opts),
    onError,
  });
  const metrics = createMessengerMetrics({
    sql, queueDatabases: shards.all.map((database) => database.sql), writer: services.writer, bus, shipper, nodeId, connections: () => wss.clients.size,
    onError: (err: unknown) => logger.warn({ err }, "a metric could not be read"),
  });
  const http = createServer(observed(metrics, options.metricsToken ?? null, (req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, nodeId, pid: process.pid, connectedDevices: bus.connectedDevices() }));
      return;
    }
    if (!req.url?.startsWith("/trpc/")) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found: the API lives under /trpc/ (HTTP) and /trpc (WebSocket)\n");
      return;
    }
    trpcHandler(req, res);
  }));
  const wss = new WebSocketServer({ server: http, maxPayload: MAX_REQUEST_BYTES });
  const trpcKeepAlive = options.relay?.keepAlive?.trpcPerSocket === true;
  const keepAlive = trpcKeepAlive ? null : new KeepAlive(wss, options.relay?.keepAlive);
  wss.on("connection", (socket) => {
    socketBudget.attach(socket);
    keepAlive?.attach(socket);
  });
  const wsHandler = applyWSSHandler({
    wss,
    router: appRouter,
    maxBatchSize: MAX_BATCH_CALLS,
    createContext: (opts) => createContext(services, opts),
    keepAlive: { enabled: trpcKeepAlive, pingMs: options.relay?.keepAlive?.pingMs ?? 30_000, pongWaitMs: options.relay?.keepAlive?.pongWaitMs ?? 10_000 },
    onError,
  });

  const expiry = setInterval(() => {
    limiter.sweepShared().catch((err: unknown) => logger.warn({ err }, "rate-limit sweep failed"));
    expireVerifications(sql).catch((err: unknown) => logger.warn({ err }, "verification sweep failed"));
    for (const database of shards.all) {
      expireOld(database.sql, clock.now())
        .then((n) => {
          if (n.envelopes > 0 || n.accepted > 0) logger.info({ ...n, database: database.name }, "expired envelopes removed");
        })
        .catch((err: unknown) => logger.error({ err, database: database.name }, "expiry sweep failed"));
    }
  }, options.expiryIntervalMs ?? 60_000);
  expiry.unref();
  // Simulated time also flows between clock moves: catch the regulators' dates it passes.
  const regulatoryTimer = setInterval(() => {
    services.regulatory.check(clock.now()).catch((err: unknown) => logger.error({ err }, "regulatory date check failed"));
  }, 1_000);
  regulatoryTimer.unref();
  // Several nodes: each follows the stored clock, so a move made through one is seen by all.
  const follower =
    options.nats && clock instanceof SimClock
      ? new ClockFollower(sql, clock, logger, {
          ...(options.clockFollowMs !== undefined ? { intervalMs: options.clockFollowMs } : {}),
          ...(shipper ? { exclusive: <T,>(move: () => T) => shipper.exclusive(move) } : {}),
          onMoved: async (now) => {
            await services.regulatory.check(now);
            await presence.clockMoved();
          },
        })
      : null;
  follower?.start();

  let closing: Promise<void> | null = null;
  return {
    services,
    http,
    wss,
    sweep: sweeps.get(map.home) ?? null,
    sweeps,
    receiptOutboxes,
    usageOutboxes,
    listen: (port = 0, host = "127.0.0.1") =>
      new Promise((resolve, reject) => {
        http.once("error", reject);
        http.listen(port, host, () => {
          const address = http.address() as AddressInfo;
          const base = `${host}:${address.port}`;
          resolve({ url: `http://${base}/trpc`, wsUrl: `ws://${base}/trpc`, port: address.port });
        });
      }),
    close: () =>
      (closing ??= (async () => {
        clearInterval(expiry);
        clearInterval(regulatoryTimer);
        await follower?.stop();
        wsHandler.broadcastReconnectNotification();
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeIdleConnections();
        // Give clients a moment to act on the reconnect notice, then hang up.
        await new Promise((resolve) => setTimeout(resolve, 100));
        for (const client of wss.clients) client.terminate();
        wss.close();
        await httpClosed;
        await services.writer.close();
        await services.lastSeen.close();
        presence.close();
        socketBudget.close();
        keepAlive?.close();
        for (const sweep of sweeps.values()) await sweep.stop();
        for (const outbox of [...receiptOutboxes.values(), ...usageOutboxes.values()]) await outbox.stop();
        await bus.close?.();
        await shipper?.stop();
        limiter.close();
        await closeDb();
        await Promise.all([...pools].filter(([name]) => name !== map.home).map(([, pool]) => pool.end({ timeout: 5 })));
      })()),
  };
}

/** What the relay asks of the consent rules: who may not use the service now, and when that can next change. */
function serviceGate(consent: ConsentStore, clock: Clock, timeline: Timeline): ServiceGate {
  return {
    refusals: async (accountIds) => {
      const states = await consent.getMany(accountIds);
      const at = clock.now();
      const out = new Map<string, ReturnType<typeof serviceRefusedError>>();
      for (const [accountId, state] of states) {
        const refusal = serviceRefusal(state, at, timeline);
        if (refusal) out.set(accountId, serviceRefusedError(refusal));
      }
      return out;
    },
    // The rules change by the clock alone at the announcement (new accounts must accept)
    // and at the acceptance deadline (existing holdouts lose service).
    nextChangeAt: () => {
      const now = clock.now().getTime();
      const ahead = [timeline.announcedAt.getTime(), timeline.acceptanceDeadline.getTime()].filter((t) => t > now);
      return ahead.length > 0 ? Math.min(...ahead) : Number.POSITIVE_INFINITY;
    },
    now: () => clock.now().getTime(),
  };
}
