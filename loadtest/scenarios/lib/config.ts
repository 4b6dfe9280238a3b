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
  /** Facebook-side base URL, e.g. http://127.0.0.1:4200 (custom-audience; rollout's lag), or "" when absent. */
  facebookTarget: string;
  /** Facebook-side tRPC URL ("" when no FACEBOOK_TARGET). */
  facebookTrpcUrl: string;
  /** Facebook admin token (advertisers.create, accounts.view); defaults to ADMIN_TOKEN (one stack, one token). */
  facebookAdminToken: string;
  /** Custom audience: lists per minute (each: create, uploads of ≤ 10,000 rows, size polls). */
  listsPerMinute: number;
  /** Custom audience: rows per list. */
  listRows: number;
  /** Custom audience: share of a list's rows that are sample users' phones (the rest: numbers nobody has). */
  listMatchShare: number;
  /** Rollout: share of consent changes followed until Facebook holds the new snapshot. */
  lagSample: number;
  /** Rollout: longest a followed change is polled before it counts as not arrived (seconds). */
  lagTimeoutSeconds: number;
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
  const facebookTarget = (__ENV.FACEBOOK_TARGET || "").replace(/\/+$/, "");
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
    facebookTarget,
    facebookTrpcUrl: facebookTarget ? `${facebookTarget}/trpc` : "",
    facebookAdminToken: __ENV.FACEBOOK_ADMIN_TOKEN || __ENV.ADMIN_TOKEN || "",
    listsPerMinute: Math.max(1, Math.round(num("LISTS_PER_MINUTE", 2))),
    listRows: Math.max(1, Math.floor(num("LIST_ROWS", 30_000))),
    listMatchShare: Math.min(1, num("LIST_MATCH_SHARE", 0.5)),
    lagSample: Math.min(1, num("LAG_SAMPLE", 0.05)),
    lagTimeoutSeconds: num("LAG_TIMEOUT", 30),
  };
}

export const config = readConfig();
