/**
 * The only place the k6 scripts read `__ENV` (set by `pnpm loadtest run`, or by hand
 * with `k6 run -e NAME=value`). Read once, in the init context.
 */
export interface RunConfig {
  /** Messenger base URL, e.g. http://127.0.0.1:4100 (the API is under /trpc). */
  target: string;
  trpcUrl: string;
  wsUrl: string;
  /** Fixture directory written by `pnpm population seed` (absolute path). */
  fixtures: string;
  /** Admin token for the simulation clock (rollout only). */
  adminToken: string;
  /** How long connected users stay connected and send (seconds). */
  durationSeconds: number;
  /** Messages per second the whole sample sends (the plan's per-shard rate × k). */
  messagesPerSecond: number;
  /** How many of the sample's users hold a connection. */
  connected: number;
  /** Share of sends that go to connected sample users (the rest go to outside contacts). */
  deliveredShare: number;
  /** Connections one VU holds. */
  usersPerVu: number;
  /** Reconnect storm: seconds every connection stays down. */
  outageSeconds: number;
  /** Rollout: real seconds per simulated day. */
  daySeconds: number;
  /** Business broadcast: business messages per second. */
  businessMessagesPerSecond: number;
}

function num(name: string, fallback: number): number {
  const raw = __ENV[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

export function readConfig(): RunConfig {
  const target = (__ENV.TARGET || "http://127.0.0.1:4100").replace(/\/+$/, "");
  const fixtures = __ENV.FIXTURES;
  if (!fixtures) throw new Error("FIXTURES is not set: the fixture directory written by `pnpm population seed`");
  return {
    target,
    trpcUrl: `${target}/trpc`,
    wsUrl: `${target.replace(/^http/, "ws")}/trpc`,
    fixtures: fixtures.replace(/\/+$/, ""),
    adminToken: __ENV.ADMIN_TOKEN || "",
    durationSeconds: num("DURATION", 60),
    messagesPerSecond: num("RATE", 10),
    connected: num("CONNECTED", 100),
    deliveredShare: Math.min(1, num("DELIVERED_SHARE", 0.3)),
    usersPerVu: Math.max(1, Math.floor(num("USERS_PER_VU", 200))),
    outageSeconds: num("OUTAGE", 10),
    daySeconds: num("DAY_SECONDS", 2),
    businessMessagesPerSecond: num("BUSINESS_RATE", 5),
  };
}

export const config = readConfig();
