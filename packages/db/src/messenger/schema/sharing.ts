import { sql } from "drizzle-orm";
import { bigint, bigserial, date, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { jsonb } from "../../columns";

/**
 * Share events waiting for (or acknowledged by) the Facebook-side ingest. Written
 * in the same transaction as the change they describe; the payload holds only the
 * fields @handshake/consent allowed at that moment, each with its purposes.
 * `sequence` is the account's snapshot number, taken from `share_sequences` under
 * that row's lock before the snapshot is read: per account, a later snapshot always
 * has a larger sequence and was built from state at least as new. Facebook orders by it.
 */
export const shareOutbox = pgTable(
  "share_outbox",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    eventId: uuid().notNull().unique().default(sql`gen_random_uuid()`),
    accountId: uuid().notNull(),
    /** Per-account snapshot order (see `shareSequences`). */
    sequence: bigint({ mode: "number" }).notNull(),
    kind: text({ enum: ["account", "consent", "usage", "regime"] }).notNull(),
    /** Simulation time of the change. */
    occurredAt: timestamp({ withTimezone: true }).notNull(),
    payload: jsonb().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    shippedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    index("share_outbox_pending_index").on(t.id).where(sql`${t.shippedAt} is null`),
    // One snapshot per (account, sequence); also answers "has this account ever shared anything?"
    // (which decides whether an empty snapshot is sent).
    uniqueIndex().on(t.accountId, t.sequence),
  ],
);

/**
 * The last snapshot sequence given to each account. Every share event is written
 * after bumping this row (`insert … on conflict do update … returning`), which
 * holds the row's lock to commit: snapshots of one account are built one at a time,
 * each from state read after the previous one committed.
 */
export const shareSequences = pgTable("share_sequences", {
  accountId: uuid().primaryKey(),
  sequence: bigint({ mode: "number" }).notNull(),
});

/** Usage counters per account (counts only, never who with). */
export const usageCounters = pgTable("usage_counters", {
  accountId: uuid().primaryKey(),
  messagesTotal: bigint({ mode: "number" }).notNull().default(0),
  activeDays: integer().notNull().default(0),
  /** The simulated day the `messagesToday` count belongs to. */
  day: date({ mode: "string" }).notNull(),
  messagesToday: integer().notNull().default(0),
  lastSeenAt: timestamp({ withTimezone: true }).notNull(),
});

/** Restrictions from spam signals (append-only: the latest per account applies). */
export const accountRestrictions = pgTable(
  "account_restrictions",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    accountId: uuid().notNull(),
    action: text({ enum: ["throttle", "suspend", "clear"] }).notNull(),
    reason: text().notNull(),
    source: text().notNull(),
    at: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [index().on(t.accountId, t.id)],
);

/** The consent regime in force, as a history: the latest row applies from its `at`. */
export const regimeChanges = pgTable("regime_changes", {
  id: bigserial({ mode: "number" }).primaryKey(),
  regime: jsonb().notNull(),
  at: timestamp({ withTimezone: true }).notNull(),
  recordedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/**
 * Messages counted on a shard database other than home, owed to home's usage counters:
 * written by the statement that stores them (so they are owed exactly when they commit),
 * added on home after the commit, and deleted here once home has them. A node that dies
 * in between, or home down, leaves them for the next sweep (`storage/usage-outbox.ts`).
 */
export const usageOutbox = pgTable(
  "usage_outbox",
  {
    id: bigint({ mode: "bigint" }).primaryKey().generatedByDefaultAsIdentity(),
    senderAccountId: uuid().notNull(),
    messages: integer().notNull(),
    /** The simulation time the messages were stored at (their day on the counters). */
    at: timestamp({ withTimezone: true }).notNull(),
    /** Wall-clock time of the commit: the sweep's age test. */
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.createdAt)],
);

/**
 * On home: the usage outbox rows of other databases already added to the counters, so a
 * row forwarded twice (a sweep and a forward overlapping, a row that outlived a forward
 * that committed) is counted once. Dropped after 30 days.
 */
export const appliedUsage = pgTable(
  "applied_usage",
  {
    /** The shard map's name of the database the row came from. */
    source: text().notNull(),
    outboxId: bigint({ mode: "bigint" }).notNull(),
    appliedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.source, t.outboxId] }), index().on(t.appliedAt)],
);
