import { sql } from "drizzle-orm";
import { bigint, date, index, integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { jsonb } from "../../columns";

/**
 * Share events received from WhatsApp, by event id: ingest is idempotent, and
 * `sequence` (the account's snapshot order, see `ingest_watermarks`) keeps an older
 * event from overwriting a newer one.
 */
export const ingestedEvents = pgTable(
  "ingested_events",
  {
    eventId: uuid().primaryKey(),
    whatsappAccountId: uuid().notNull(),
    kind: text().notNull(),
    sequence: bigint({ mode: "number" }).notNull(),
    occurredAt: timestamp({ withTimezone: true }).notNull(),
    receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.whatsappAccountId)],
);

/**
 * The newest snapshot sequence applied per WhatsApp account. Kept apart from
 * `shared_data` on purpose: a withdrawal empties `shared_data`, and the ordering
 * guard must still refuse an older event that arrives after it.
 */
export const ingestWatermarks = pgTable("ingest_watermarks", {
  whatsappAccountId: uuid().primaryKey(),
  sequence: bigint({ mode: "number" }).notNull(),
  eventId: uuid().notNull(),
  appliedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/**
 * Each datum WhatsApp shared about an account, with the purposes it may serve.
 * One row per (account, field): the latest event replaces it, and a field the
 * latest event no longer carries is deleted — what may no longer be held is gone.
 */
export const sharedData = pgTable(
  "shared_data",
  {
    whatsappAccountId: uuid().notNull(),
    field: text().notNull(),
    value: jsonb().notNull(),
    purposes: text().array().notNull(),
    /** Simulation time at which WhatsApp decided these purposes. */
    sharedAt: timestamp({ withTimezone: true }).notNull(),
    sequence: bigint({ mode: "number" }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.whatsappAccountId, t.field] }),
    index().on(t.field),
    // Who verified a number: a profile whose number some WhatsApp account shared is that person's.
    index("shared_data_phone_index").on(sql`(${t.value} #>> '{}')`).where(sql`${t.field} = 'phoneNumber'`),
  ],
);

/** A WhatsApp account linked to the Facebook profile holding its verified number. */
export const links = pgTable(
  "links",
  {
    whatsappAccountId: uuid().primaryKey(),
    profileId: bigint({ mode: "number" }).notNull(),
    linkedAt: timestamp({ withTimezone: true }).notNull(),
    /** `phone`: the profile holds the shared number; `name`: found through the name address books saved the number under. */
    linkedBy: text({ enum: ["phone", "name"] }).notNull().default("phone"),
  },
  (t) => [index().on(t.profileId)],
);

/**
 * Every use of a WhatsApp-derived datum: which datum, for which purpose, by which
 * feature, when (simulation time). The privacy audit replays these against the
 * consent history.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    whatsappAccountId: uuid().notNull(),
    datum: text().notNull(),
    purpose: text().notNull(),
    feature: text({ enum: ["link", "suggestion", "audience-match", "ad", "device-target", "spam-check", "metrics-view"] }).notNull(),
    at: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [index().on(t.whatsappAccountId), index().on(t.purpose)],
);

/**
 * Spam signals computed from usage metadata and sent back to WhatsApp. Pending
 * until delivered, or refused for good (the messenger does not know the account):
 * a refused signal must not hold back the ones behind it.
 */
export const spamSignals = pgTable(
  "spam_signals",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    whatsappAccountId: uuid().notNull(),
    action: text({ enum: ["throttle", "suspend"] }).notNull(),
    reason: text().notNull(),
    at: timestamp({ withTimezone: true }).notNull(),
    deliveredAt: timestamp({ withTimezone: true }),
    refusedAt: timestamp({ withTimezone: true }),
    /** The messenger's answer when it refused the signal for good. */
    refusal: text(),
  },
  (t) => [index("spam_signals_pending_index").on(t.id).where(sql`${t.deliveredAt} is null and ${t.refusedAt} is null`)],
);

/**
 * What Facebook lost when WhatsApp data was withdrawn (an opt-out, a regime switch, a
 * ban): links and WhatsApp-derived audience memberships removed, counted per simulated
 * day, profile country and how the link had been made. Counts only: keeping "account X
 * was linked to profile Y" after a withdrawal would itself retain the link.
 */
export const withdrawalLosses = pgTable(
  "withdrawal_losses",
  {
    day: date().notNull(),
    country: text().notNull(),
    /** `phone`: the profile held the shared number; `name`: linked through the address-book name. */
    linkedBy: text({ enum: ["phone", "name"] }).notNull(),
    links: integer().notNull().default(0),
    audienceMemberships: integer().notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.day, t.country, t.linkedBy] })],
);
