import { index, pgTable, smallint, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { bytea } from "../../columns";

/**
 * Phone-number verification: `account.requestCode` opens a session and sends a
 * 6-digit code; `account.register` with the right code proves possession. Only a
 * hash of the code is kept; a session allows 5 attempts and expires (real time).
 */
export const verificationSessions = pgTable(
  "verification_sessions",
  {
    id: uuid().primaryKey().default(sql`gen_random_uuid()`),
    phoneNumber: text().notNull(),
    transport: text({ enum: ["sms", "voice"] }).notNull(),
    /** SHA-256 of "<session id>:<code>". */
    codeHash: bytea().notNull(),
    attempts: smallint().notNull().default(0),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    /** When the right code was presented; a session proves possession once. */
    verifiedAt: timestamp({ withTimezone: true }),
  },
  (t) => [index().on(t.createdAt)],
);

/**
 * The simulated phone network's deliveries: the SMS or call a phone received with
 * its code. Written only by the simulated carrier (never in production mode) and
 * read only through the dev/test procedure `phoneSimulator.readCode`.
 */
export const simulatedPhoneInbox = pgTable("simulated_phone_inbox", {
  sessionId: uuid().primaryKey(),
  phoneNumber: text().notNull(),
  transport: text({ enum: ["sms", "voice"] }).notNull(),
  body: text().notNull(),
  deliveredAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});
