/** Messenger entry point: environment -> database -> server. Wiring only. */
import { makeTimeline } from "@handshake/consent";
import { waitForDatabase } from "@handshake/db/connect-retry";
import { resolveDatabase } from "@handshake/db/resolve";
import { hostname } from "node:os";
import path from "node:path";
import { readEnv, shardMapVariables } from "./env";
import { startTracing, tracesExporterFromEnv } from "@handshake/observability";
import { createLogger } from "./log";
import { createMessengerServer } from "./server";
import { loadShardMap } from "@handshake/db/messenger-shards";

const env = readEnv();
const logger = createLogger({ level: env.LOG_LEVEL });
const tracing = startTracing({ serviceName: "messenger", exporter: tracesExporterFromEnv(env), otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT });

// With a shard map its databases are used, and nothing embedded is started.
const shardMap = env.SHARD_MAP ? await loadShardMap(env.SHARD_MAP, shardMapVariables()) : null;
// Each shard database that is down or still starting is waited for, each attempt logged.
for (const url of Object.values(shardMap?.databases ?? {})) await waitForDatabase(url, { log: logger });
const database = shardMap
  ? { url: shardMap.databases[shardMap.home]!, embedded: null }
  : await resolveDatabase({
      url: env.MESSENGER_DATABASE_URL,
      serverUrl: env.DATABASE_URL,
      database: "handshake_messenger",
      dataDir: path.join(env.HANDSHAKE_DATA_DIR, "postgres"),
      // A database that is down or still starting is waited for, each attempt logged.
      retry: { log: logger },
    });
const server = await createMessengerServer({
  databaseUrl: database.url,
  shardMap,
  logger,
  shardCount: shardMap?.shardCount ?? env.SHARD_COUNT,
  rateLimits: env.RATE_LIMITS === "off" ? false : {},
  adminToken: env.ADMIN_TOKEN ?? null,
  metricsToken: env.METRICS_TOKEN ?? null,
  serviceToken: env.SERVICE_TOKEN ?? null,
  facebookUrl: env.FACEBOOK_URL ?? null,
  simStart: new Date(env.SIM_CLOCK_START),
  regime: env.CONSENT_REGIME,
  phoneCarrier: env.PHONE_CARRIER,
  timeline: makeTimeline({ acceptanceDays: env.ACCEPTANCE_DAYS, optOutWindowDays: env.OPT_OUT_WINDOW_DAYS }),
  nats: env.NATS_URL
    ? { url: env.NATS_URL, nodeId: env.NODE_ID ?? `${hostname()}-${process.pid}`, sweepIntervalMs: env.MISSED_DELIVERY_SWEEP_MS }
    : null,
});
const { url, wsUrl } = await server.listen(env.PORT, env.HOST);
logger.info(
  {
    url,
    wsUrl,
    embeddedPostgres: Boolean(database.embedded),
    simulatedNow: server.services.clock.now().toISOString(),
    regime: env.CONSENT_REGIME,
    admin: Boolean(env.ADMIN_TOKEN),
    nats: env.NATS_URL ?? null,
    shardDatabases: shardMap ? Object.keys(shardMap.databases) : null,
  },
  "messenger listening",
);

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    server
      .close()
      .then(() => database.embedded?.stop())
      .then(() => tracing.shutdown())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, "unclean shutdown");
        process.exit(1);
      });
  });
}
