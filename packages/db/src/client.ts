/**
 * Database clients over postgres.js. Importing this module opens nothing; the
 * factories do.
 *
 * One pool per service: drizzle wraps the same postgres.js client the raw hot-path SQL
 * uses. drizzle's postgres-js driver would replace the date and json parsers and
 * serializers of the client it is given with pass-through ones; `drizzleView` keeps
 * postgres.js's own, so raw SQL keeps getting `Date`s. drizzle 0.45 maps a `Date` from the
 * driver as it maps a string, and `columns.ts`'s `jsonb` leaves stringifying to postgres.js.
 */
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as facebookSchema from "./facebook/schema/index";
import * as messengerSchema from "./messenger/schema/index";

export type MessengerSchema = typeof messengerSchema;
export type MessengerDatabase = PostgresJsDatabase<MessengerSchema>;

export interface ClientOptions {
  /** Connections in the pool. */
  max?: number;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
  /** Server-side limits on every session of the pool (PostgreSQL enforces them; none by default). */
  sessionLimits?: SessionLimits;
}

/**
 * PostgreSQL's own bounds on a session, sent as startup parameters: a statement that
 * runs too long or waits too long for a lock is cancelled with an error, and a session
 * left idle inside a transaction (its client gone or stuck) is terminated, releasing
 * its locks. Without them one stuck transaction can hold a lock that every later one
 * waits for, forever.
 */
export interface SessionLimits {
  /** `statement_timeout` */
  statementTimeoutMs?: number;
  /** `lock_timeout`: the longest wait for one lock (row, table or advisory). */
  lockTimeoutMs?: number;
  /** `idle_in_transaction_session_timeout` */
  idleInTransactionMs?: number;
}

function limitParameters(limits: SessionLimits | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (limits?.statementTimeoutMs !== undefined) out.statement_timeout = String(limits.statementTimeoutMs);
  if (limits?.lockTimeoutMs !== undefined) out.lock_timeout = String(limits.lockTimeoutMs);
  if (limits?.idleInTransactionMs !== undefined) out.idle_in_transaction_session_timeout = String(limits.idleInTransactionMs);
  return out;
}

/** SQLSTATEs of a statement PostgreSQL cut short under {@link SessionLimits} (or cancelled). */
const LIMIT_CODES = new Set(["57014", "55P03", "25P03"]);

/** Whether `error` is PostgreSQL refusing to wait any longer (a timeout of {@link SessionLimits}), not a bad statement. */
export function isSessionLimitError(error: unknown): boolean {
  return error instanceof postgres.PostgresError && LIMIT_CODES.has(error.code);
}

export interface MessengerDb {
  /** drizzle over the messenger schema, for typed queries. */
  db: MessengerDatabase;
  /** The same pool as `db`, as postgres.js (its own parsers), for batched hot-path SQL. */
  sql: postgres.Sql;
  close(): Promise<void>;
}

export function rawClient(url: string, options: ClientOptions = {}): postgres.Sql {
  return postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connect_timeout: 10,
    connection: { application_name: options.applicationName ?? "handshake", ...limitParameters(options.sessionLimits) },
  });
}

/**
 * drizzle over `client` (the pool, or a transaction inside `sql.begin`) without touching
 * its parsers: drizzle's driver writes pass-through ones into `client.options`, so it is
 * handed a view of the client with options of its own. Queries still go through
 * `client.unsafe`/`begin`/`savepoint`, i.e. the same connections.
 */
function drizzleView<TSchema extends Record<string, unknown>>(
  client: postgres.Sql | postgres.TransactionSql,
  schema?: TSchema,
): PostgresJsDatabase<TSchema> {
  const view = Object.create(client, { options: { value: { parsers: {}, serializers: {} } } }) as postgres.Sql;
  return drizzle({ client: view, casing: "snake_case", ...(schema ? { schema } : {}) }) as PostgresJsDatabase<TSchema>;
}

const onClient = new WeakMap<object, PostgresJsDatabase>();

/**
 * Typed (schema-less) drizzle queries on a postgres.js pool or transaction: how storage
 * code that is handed a raw `tx` (the queue writer's, the share pipeline's) runs drizzle
 * queries in that same transaction. One per client, made on first use.
 */
export function drizzleOn(client: postgres.Sql | postgres.TransactionSql): PostgresJsDatabase {
  let db = onClient.get(client);
  if (!db) onClient.set(client, (db = drizzleView(client)));
  return db;
}

export function createMessengerDb(url: string, options: ClientOptions = {}): MessengerDb {
  const sql = rawClient(url, options);
  const db = drizzleView(sql, messengerSchema);
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}

export type FacebookSchema = typeof facebookSchema;
export type FacebookDatabase = PostgresJsDatabase<FacebookSchema>;

export interface FacebookDb {
  db: FacebookDatabase;
  sql: postgres.Sql;
  close(): Promise<void>;
}

export function createFacebookDb(url: string, options: ClientOptions = {}): FacebookDb {
  const sql = rawClient(url, options);
  const db = drizzleView(sql, facebookSchema);
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}
