/**
 * Database clients over postgres.js. Importing this module opens nothing; the
 * factories do.
 *
 * One pool per service: drizzle wraps the same postgres.js client the raw hot-path SQL
 * uses. drizzle's postgres-js driver replaces the date and json parsers and serializers
 * of the client it is given with pass-through ones; `drizzleOver` puts postgres.js's own
 * back, so raw SQL keeps getting `Date`s. drizzle 0.45 maps a `Date` from the driver as
 * it maps a string, and `columns.ts`'s `jsonb` leaves stringifying to postgres.js.
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
    connection: { application_name: options.applicationName ?? "handshake" },
  });
}

function drizzleOver<TSchema extends Record<string, unknown>>(
  client: postgres.Sql,
  schema: TSchema,
): PostgresJsDatabase<TSchema> {
  const parsers = { ...client.options.parsers };
  const serializers = { ...client.options.serializers };
  const db = drizzle({ client, schema, casing: "snake_case" });
  Object.assign(client.options.parsers, parsers);
  Object.assign(client.options.serializers, serializers);
  return db;
}

export function createMessengerDb(url: string, options: ClientOptions = {}): MessengerDb {
  const sql = rawClient(url, options);
  const db = drizzleOver(sql, messengerSchema);
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
  const db = drizzleOver(sql, facebookSchema);
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}
