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
