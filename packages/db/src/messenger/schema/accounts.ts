import { sql } from "drizzle-orm";
import { bytea } from "../../columns";
import { index, integer, pgTable, primaryKey, smallint, text, timestamp, uuid } from "drizzle-orm/pg-core";

/** One person or business, identified by a verified phone number (E.164). */
export const accounts = pgTable(
  "accounts",
  {
    id: uuid().primaryKey().default(sql`gen_random_uuid()`),
    phoneNumber: text().notNull().unique(),
    /** ISO 3166-1 alpha-2, derived from the phone number at registration. */
    country: text().notNull(),
    /** Logical shard (population layout); every per-account row is partitionable by it. */
    shard: integer().notNull(),
    kind: text({ enum: ["personal", "business"] }).notNull().default("personal"),
    /** Businesses only: the name recipients see. */
    displayName: text(),
    /** Simulation time of registration. */
    createdAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [index().on(t.shard)],
);

/**
 * A device of an account. The credential is a random secret shown once at
 * registration; only its SHA-256 is stored (it has 256 bits of entropy, so a
 * slow password hash would add cost without adding safety).
 */
export const devices = pgTable(
  "devices",
  {
    accountId: uuid()
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    deviceId: smallint().notNull(),
    credentialHash: bytea().notNull(),
    os: text().notNull(),
    osVersion: text().notNull(),
    appVersion: text().notNull(),
    model: text().notNull(),
    /** Set by the first `keys.upload`. */
    registrationId: integer(),
    identityKey: bytea(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    lastSeenAt: timestamp({ withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.deviceId] })],
);
