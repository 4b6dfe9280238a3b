/** Facebook-side entry point: environment -> database -> server. Wiring only. */
import path from "node:path";
import { resolveDatabase } from "@handshake/db/resolve";
import { FollowedClock, systemClock } from "./clock";
import { readEnv } from "./env";
import { startTracing, tracesExporterFromEnv } from "@handshake/observability";
import { createLogger } from "./log";
import { createFacebookServer } from "./server";

const env = readEnv();
const logger = createLogger({ level: env.LOG_LEVEL });
const tracing = startTracing({ serviceName: "facebook", exporter: tracesExporterFromEnv(env), otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT });

const database = await resolveDatabase({
  url: env.FACEBOOK_DATABASE_URL,
  serverUrl: env.DATABASE_URL,
  database: "handshake_facebook",
  dataDir: path.join(env.HANDSHAKE_DATA_DIR, "postgres"),
  // A database that is down or still starting is waited for, each attempt logged.
  retry: { log: logger },
});

// Simulated time belongs to the messenger; follow it when we know where it is.
const messengerUrl = env.MESSENGER_URL;
const clock = messengerUrl
  ? new FollowedClock(async () => {
      const response = await fetch(`${messengerUrl}/clock.now`, { signal: AbortSignal.timeout(2_000) });
      const body = (await response.json()) as { result: { data: { now: string } } };
      return new Date(body.result.data.now);
    })
  : systemClock;
if (clock instanceof FollowedClock) await clock.sync();

const server = await createFacebookServer({
  databaseUrl: database.url,
  clock,
  logger,
  serviceToken: env.SERVICE_TOKEN ?? null,
  adminToken: env.ADMIN_TOKEN ?? null,
  metricsToken: env.METRICS_TOKEN ?? null,
  messengerUrl: messengerUrl ?? null,
  spamThrottlePerDay: env.SPAM_THROTTLE_PER_DAY,
  spamSuspendPerDay: env.SPAM_SUSPEND_PER_DAY,
});
const { url } = await server.listen(env.PORT, env.HOST);
logger.info({ url, embeddedPostgres: Boolean(database.embedded), followsMessengerClock: Boolean(messengerUrl) }, "facebook listening");

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    if (clock instanceof FollowedClock) clock.stop();
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
