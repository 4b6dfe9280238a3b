import { boolean, foreignKey, integer, pgTable, primaryKey, smallint, uuid } from "drizzle-orm/pg-core";
import { bytea } from "../../columns";
import { devices } from "./accounts";

/** The current signed EC prekey of a device (replaced on upload). */
export const signedPreKeys = pgTable(
  "signed_prekeys",
  {
    accountId: uuid().notNull(),
    deviceId: smallint().notNull(),
    keyId: integer().notNull(),
    publicKey: bytea().notNull(),
    signature: bytea().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.deviceId] }),
    foreignKey({ columns: [t.accountId, t.deviceId], foreignColumns: [devices.accountId, devices.deviceId] }).onDelete(
      "cascade",
    ),
  ],
);

/**
 * Kyber (post-quantum) prekeys: one-time keys, handed out once each, and one
 * last-resort key per device used when the one-time keys have run out.
 */
export const kyberPreKeys = pgTable(
  "kyber_prekeys",
  {
    accountId: uuid().notNull(),
    deviceId: smallint().notNull(),
    keyId: integer().notNull(),
    publicKey: bytea().notNull(),
    signature: bytea().notNull(),
    lastResort: boolean().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.deviceId, t.keyId] }),
    foreignKey({ columns: [t.accountId, t.deviceId], foreignColumns: [devices.accountId, devices.deviceId] }).onDelete(
      "cascade",
    ),
  ],
);

/** One-time EC prekeys: each is handed out to exactly one session initiator. */
export const oneTimePreKeys = pgTable(
  "one_time_prekeys",
  {
    accountId: uuid().notNull(),
    deviceId: smallint().notNull(),
    keyId: integer().notNull(),
    publicKey: bytea().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.deviceId, t.keyId] }),
    foreignKey({ columns: [t.accountId, t.deviceId], foreignColumns: [devices.accountId, devices.deviceId] }).onDelete(
      "cascade",
    ),
  ],
);
