import { bigint, index, integer, pgTable, primaryKey, smallint, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { bytea } from "../../columns";

/**
 * Store-and-forward queue: opaque ciphertext waiting for its recipient device.
 * Rows are deleted when the recipient acknowledges them and expire after 30 days.
 * No foreign keys: this is the hot path, and recipients are checked by the relay.
 */
export const envelopes = pgTable(
  "envelopes",
  {
    id: bigint({ mode: "bigint" }).primaryKey().generatedByDefaultAsIdentity(),
    /** The recipient's shard: the partitioning key when the queue is spread over servers. */
    recipientShard: integer().notNull(),
    recipientAccountId: uuid().notNull(),
    recipientDeviceId: smallint().notNull(),
    senderAccountId: uuid().notNull(),
    senderDeviceId: smallint().notNull(),
    /** The sender's client-chosen id; for receipts, the id of the acknowledged message. */
    messageId: uuid().notNull(),
    type: smallint().notNull(),
    /** Ciphertext, never inspected by the server; empty for receipts. */
    content: bytea().notNull(),
    /** Business messages only: cleartext category (the content stays encrypted). */
    category: text(),
    serverTimestamp: timestamp({ withTimezone: true }).notNull(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [index().on(t.recipientAccountId, t.recipientDeviceId, t.id), index().on(t.expiresAt)],
);

/**
 * Message ids already accepted from a sender, so a resend (after a timeout, or
 * after delivery) is recognised and not stored twice. Holds ids only, never content;
 * pruned with the same 30-day horizon as the queue.
 */
export const acceptedMessages = pgTable(
  "accepted_messages",
  {
    senderAccountId: uuid().notNull(),
    messageId: uuid().notNull(),
    recipientAccountId: uuid().notNull(),
    envelopeId: bigint({ mode: "bigint" }).notNull(),
    acceptedAt: timestamp({ withTimezone: true }).notNull(),
    /** Business messages only: the cleartext category it was sent under (what a recipient's report is checked against). */
    category: text(),
  },
  (t) => [primaryKey({ columns: [t.senderAccountId, t.messageId] }), index().on(t.acceptedAt)],
);

/**
 * Delivery receipts owed to senders on another database of the shard map: written by
 * the statement that deletes the acknowledged envelopes (so a receipt is owed exactly
 * when its ack commits), forwarded to the sender's database after the commit, and
 * deleted here once that database has them. A node that dies in between, or a sender's
 * database that is down, leaves them here for the next sweep (`storage/receipt-outbox.ts`).
 */
export const receiptOutbox = pgTable(
  "receipt_outbox",
  {
    id: bigint({ mode: "bigint" }).primaryKey().generatedByDefaultAsIdentity(),
    /** The message's sender, who gets the receipt. */
    toAccountId: uuid().notNull(),
    toDeviceId: smallint().notNull(),
    /** The device that acknowledged the message. */
    fromAccountId: uuid().notNull(),
    fromDeviceId: smallint().notNull(),
    messageId: uuid().notNull(),
    /** Wall-clock time of the ack's commit (not the simulation clock): the sweep's age test. */
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.createdAt)],
);

/**
 * Receipts that came from another database's outbox and were stored here, so a second
 * forward of the same receipt (its outbox row outlived a forward that committed here) is
 * recognised and not delivered twice. Ids only; dropped after 30 days like
 * `accepted_messages`.
 */
export const acceptedReceipts = pgTable(
  "accepted_receipts",
  {
    toAccountId: uuid().notNull(),
    messageId: uuid().notNull(),
    fromAccountId: uuid().notNull(),
    fromDeviceId: smallint().notNull(),
    /** The device the receipt was queued for (not part of the key: a message has one sender device). */
    toDeviceId: smallint().notNull(),
    acceptedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.toAccountId, t.messageId, t.fromAccountId, t.fromDeviceId] }), index().on(t.acceptedAt)],
);
