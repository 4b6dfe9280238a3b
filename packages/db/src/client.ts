/**
 * Database clients over postgres.js. Importing this module opens nothing; the
 * factories do.
 *
 * Two pools on purpose: drizzle's postgres-js driver rewrites the type parsers of
 * the client it is given (timestamps come back as strings), so raw hot-path SQL
 * gets its own client with postgres.js's normal parsers.
 */
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as facebookSchema from "./facebook/schema/index";
import * as messengerSchema from "./messenger/schema/index";

export type MessengerSchema = typeof messengerSchema;
export type MessengerDatabase = PostgresJsDatabase<MessengerSchema>;

export interface ClientOptions {
  /** Connections in each pool. */
  max?: number;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
}

export interface MessengerDb {
  /** drizzle over the messenger schema, for typed queries. */
  db: MessengerDatabase;
  /** postgres.js with its default parsers, for batched hot-path SQL. */
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

export function createMessengerDb(url: string, options: ClientOptions = {}): MessengerDb {
  const drizzleClient = rawClient(url, options);
  const sql = rawClient(url, options);
  const db = drizzle({ client: drizzleClient, schema: messengerSchema, casing: "snake_case" });
  return {
    db,
    sql,
    close: async () => {
      await Promise.all([drizzleClient.end({ timeout: 5 }), sql.end({ timeout: 5 })]);
    },
  };
}

export type FacebookSchema = typeof facebookSchema;
export type FacebookDatabase = PostgresJsDatabase<FacebookSchema>;

export interface FacebookDb {
  db: FacebookDatabase;
  sql: postgres.Sql;
  close(): Promise<void>;
}

export function createFacebookDb(url: string, options: ClientOptions = {}): FacebookDb {
  const drizzleClient = rawClient(url, options);
  const sql = rawClient(url, options);
  const db = drizzle({ client: drizzleClient, schema: facebookSchema, casing: "snake_case" });
  return {
    db,
    sql,
    close: async () => {
      await Promise.all([drizzleClient.end({ timeout: 5 }), sql.end({ timeout: 5 })]);
    },
  };
}
