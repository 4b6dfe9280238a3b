/**
 * A real messenger for tests: a fresh database on the run's PostgreSQL, a server
 * on a free port, and its log lines captured for inspection. Test-only.
 */
import { createTestDatabase } from "@handshake/db/testing";
import type { RegimeInput } from "@handshake/consent";
import type { Clock } from "./clock";
import { createLogger } from "./log";
import type { RateLimitCatalogue } from "./rate-limits";
import type { ShardMap } from "@handshake/db/messenger-shards";
import { createMessengerServer, type MessengerServer, type MessengerServerOptions } from "./server";

export interface TestMessenger {
  url: string;
  wsUrl: string;
  server: MessengerServer;
  databaseUrl: string;
  /** Every log line the server wrote (JSON), at debug level. */
  logLines: string[];
  close(): Promise<void>;
}

/** The service token shared by test messengers and test Facebook services. */
export const TEST_SERVICE_TOKEN = "test-service-token-0123456789";

/** The admin token every test messenger accepts. */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789";

export async function startTestMessenger(
  options: {
    clock?: Clock;
    simStart?: Date;
    regime?: RegimeInput;
    rateLimits?: Partial<RateLimitCatalogue> | false;
    /** Ship share events to this Facebook-side URL (with TEST_SERVICE_TOKEN). */
    facebookUrl?: string;
    /** Use this database instead of a fresh one (e.g. to restart on the same data). */
    databaseUrl?: string;
    /** Default: the simulated phone network. */
    phoneCarrier?: "simulated" | "none";
    /** Shipper tuning over the test defaults (short backoff, 50 ms poll). */
    shipper?: MessengerServerOptions["shipper"];
    /** Connect the server to PostgreSQL here instead (e.g. through a fault-injecting proxy); the database is still `databaseUrl`'s. */
    connectUrl?: (databaseUrl: string) => string;
    relay?: MessengerServerOptions["relay"];
    /** Join a bus of several nodes (a real nats-server) instead of the in-process bus. */
    nats?: { url: string; nodeId: string; sweepIntervalMs?: number; subjectPrefix?: string };
    /** Several databases (shards/shard-map.ts); `databaseUrl` then defaults to the map's home. */
    shardMap?: ShardMap;
    /** How often the missed-delivery sweep runs (default 5 s). */
    missedDeliverySweepMs?: number;
    databaseSessionLimits?: MessengerServerOptions["databaseSessionLimits"];
    /** With a shard map: the outboxes' sweep (default every 5 s, rows older than 5 s). */
    outboxes?: MessengerServerOptions["outboxes"];
  } = {},
): Promise<TestMessenger> {
  const given = options.databaseUrl ?? (options.shardMap ? options.shardMap.databases[options.shardMap.home] : undefined);
  const database = given
    ? { url: given, drop: async () => {} }
    : await createTestDatabase("messenger");
  const logLines: string[] = [];
  const logger = createLogger({ level: "debug", destination: { write: (line: string) => void logLines.push(line) } });
  const server = await createMessengerServer({
    databaseUrl: options.connectUrl ? options.connectUrl(database.url) : database.url,
    logger,
    poolSize: 4,
    adminToken: TEST_ADMIN_TOKEN,
    serviceToken: TEST_SERVICE_TOKEN,
    ...(options.facebookUrl
      ? { facebookUrl: options.facebookUrl, shipper: { minBackoffMs: 20, maxBackoffMs: 200, pollMs: 50, probeIntervalMs: 50, ...options.shipper } }
      : {}),
    ...(options.simStart ? { simStart: options.simStart } : {}),
    ...(options.regime ? { regime: options.regime } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.rateLimits !== undefined ? { rateLimits: options.rateLimits } : {}),
    ...(options.phoneCarrier ? { phoneCarrier: options.phoneCarrier } : {}),
    ...(options.relay ? { relay: options.relay } : {}),
    ...(options.nats ? { nats: options.nats } : {}),
    ...(options.shardMap ? { shardMap: options.shardMap } : {}),
    ...(options.missedDeliverySweepMs ? { missedDeliverySweepMs: options.missedDeliverySweepMs } : {}),
    ...(options.databaseSessionLimits ? { databaseSessionLimits: options.databaseSessionLimits } : {}),
    ...(options.outboxes ? { outboxes: options.outboxes } : {}),
  });
  const { url, wsUrl } = await server.listen(0);
  return {
    url,
    wsUrl,
    server,
    databaseUrl: database.url,
    logLines,
    close: async () => {
      await server.close();
      await database.drop();
    },
  };
}
