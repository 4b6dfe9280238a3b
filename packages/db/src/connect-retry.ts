/**
 * Start-up against a database that may not be up yet (or is restarting): retry
 * what needs a connection, with exponential backoff, while the failure is one of
 * "cannot reach / server not ready"; fail at once on anything else (bad password,
 * missing database, SQL errors), and give up after a deadline with a clear error.
 *
 * Backoff by p-retry. Jitter is off on purpose so each log line can say exactly when
 * the next attempt is (p-retry's documented delay: min(minTimeout * 2^n, maxTimeout)).
 */
import pRetry from "p-retry";
import postgres from "postgres";

/** Anything pino-like: each retry is a warning, the recovery an info line. */
export interface RetryLog {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}

export interface ConnectRetryOptions {
  /** Where retries are reported; stderr when omitted. */
  log?: RetryLog;
  /** First delay; doubles per attempt up to {@link maxDelayMs}. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Stop retrying after this long (default 2 minutes). */
  giveUpAfterMs?: number;
  signal?: AbortSignal;
}

// Error codes that mean "the server is not there or not ready", from Node's
// sockets, postgres.js and PostgreSQL (class 08 connection exceptions; 57P01
// admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now: starting up).
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "57P01",
  "57P02",
  "57P03",
]);

/** True when `error` (or what it wraps: drizzle's `cause`, an AggregateError) says the server was unreachable or not ready. */
export function isUnreachable(error: unknown): boolean {
  for (let current = error, depth = 0; current && typeof current === "object" && depth < 5; depth++) {
    const { code, errors, cause } = current as { code?: unknown; errors?: unknown; cause?: unknown };
    if (typeof code === "string" && (UNREACHABLE.has(code) || code.startsWith("08"))) return true;
    if (Array.isArray(errors) && errors.some(isUnreachable)) return true;
    current = cause;
  }
  return false;
}

/** `host:port/database` of a URL, without credentials, for log lines. */
export function describeTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return "(unparsable database URL)";
  }
}

function reason(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return [code, message].filter((part) => typeof part === "string" && part).join(": ") || String(error);
}

const stderrLog: RetryLog = {
  warn: (fields, message) => console.error(`${message} ${JSON.stringify(fields)}`),
  info: (fields, message) => console.error(`${message} ${JSON.stringify(fields)}`),
};

/**
 * Runs `attempt` until it succeeds, retrying (with a log line each time) while it
 * fails because the database is unreachable. `what` names the step in the log
 * ("connect", "migrate messenger"); `url` says where, without its password.
 */
export async function retryWhileUnreachable<T>(what: string, url: string, attempt: () => Promise<T>, options: ConnectRetryOptions = {}): Promise<T> {
  const { log = stderrLog, minDelayMs = 250, maxDelayMs = 5_000, giveUpAfterMs = 120_000, signal } = options;
  const target = describeTarget(url);
  const started = Date.now();
  let attempts = 0;
  try {
    const result = await pRetry(
      async () => {
        attempts++;
        return attempt();
      },
      {
        retries: Number.POSITIVE_INFINITY,
        factor: 2,
        minTimeout: minDelayMs,
        maxTimeout: maxDelayMs,
        randomize: false,
        maxRetryTime: giveUpAfterMs,
        ...(signal ? { signal } : {}),
        shouldRetry: ({ error }) => isUnreachable(error),
        onFailedAttempt: ({ error, attemptNumber, retriesConsumed }) => {
          if (!isUnreachable(error) || Date.now() - started >= giveUpAfterMs) return;
          const retryInMs = Math.min(maxDelayMs, minDelayMs * 2 ** retriesConsumed);
          log.warn(
            { step: what, database: target, attempt: attemptNumber, error: reason(error), retryInMs },
            `database not reachable (${what}, attempt ${attemptNumber}): retrying in ${(retryInMs / 1000).toFixed(1)} s`,
          );
        },
      },
    );
    if (attempts > 1) log.info({ step: what, database: target, attempts }, `database reachable (${what}) after ${attempts} attempts`);
    return result;
  } catch (error) {
    if (!isUnreachable(error)) throw error;
    throw new Error(
      `database ${target} still not reachable after ${attempts} attempts over ${Math.round((Date.now() - started) / 1000)} s (${what}): ${reason(error)}`,
      { cause: error },
    );
  }
}

/** Resolves once `select 1` succeeds on `url`, retrying while the server is unreachable. */
export async function waitForDatabase(url: string, options: ConnectRetryOptions = {}): Promise<void> {
  await retryWhileUnreachable(
    "connect",
    url,
    async () => {
      // A fresh single connection per attempt: nothing is left half-open between tries.
      const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
      try {
        await sql`select 1`;
      } finally {
        await sql.end({ timeout: 1 });
      }
    },
    options,
  );
}
