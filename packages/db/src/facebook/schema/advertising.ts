import { bigint, boolean, customType, index, integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { jsonb } from "../../columns";

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => "bytea" });

/** Advertisers, each with its own credential (only its SHA-256 is kept). */
export const advertisers = pgTable("advertisers", {
  id: uuid().primaryKey().defaultRandom(),
  name: text().notNull(),
  credentialHash: bytea().notNull(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/** A Custom Audience: a list of hashed phone numbers an advertiser uploaded. */
export const audiences = pgTable(
  "audiences",
  {
    id: uuid().primaryKey().defaultRandom(),
    advertiserId: uuid().notNull(),
    name: text().notNull(),
    /** Hashes received so far (not distinct); the list itself stays internal. */
    uploadedRows: integer().notNull().default(0),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.advertiserId)],
);

/** Uploaded hashes: SHA-256 of E.164 digits without '+'. Never returned to anyone. */
export const audienceHashes = pgTable(
  "audience_hashes",
  {
    audienceId: uuid().notNull(),
    hash: bytea().notNull(),
  },
  (t) => [primaryKey({ columns: [t.audienceId, t.hash] })],
);

/**
 * Matched members, internal only: a profile matched through Facebook's own number,
 * or through a WhatsApp number shared for `ads` (then `whatsappAccountId` says whose).
 */
export const audienceMembers = pgTable(
  "audience_members",
  {
    audienceId: uuid().notNull(),
    profileId: bigint({ mode: "number" }).notNull(),
    whatsappAccountId: uuid(),
    viaWhatsapp: boolean().notNull(),
  },
  (t) => [primaryKey({ columns: [t.audienceId, t.profileId] })],
);

export const adImpressions = pgTable(
  "ad_impressions",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    audienceId: uuid().notNull(),
    profileId: bigint({ mode: "number" }).notNull(),
    at: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [index().on(t.audienceId)],
);

/** Every response an advertiser received, verbatim: the privacy audit reads it. */
export const advertiserApiLog = pgTable("advertiser_api_log", {
  id: bigint({ mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
  advertiserId: uuid(),
  path: text().notNull(),
  response: jsonb().notNull(),
  at: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/**
 * Refused advertiser calls (no or a wrong credential, an exhausted budget), counted
 * per minute, path, code and caller instead of one `advertiser_api_log` row each:
 * a refusal carries no data, and logging it row by row let anyone without a
 * credential write to this database at will. `caller` is the advertiser id, or
 * `anonymous`.
 */
export const advertiserApiRefusals = pgTable(
  "advertiser_api_refusals",
  {
    minute: timestamp({ withTimezone: true }).notNull(),
    path: text().notNull(),
    code: text().notNull(),
    caller: text().notNull(),
    refusals: bigint({ mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.minute, t.path, t.code, t.caller] })],
);
