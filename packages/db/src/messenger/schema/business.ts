import { index, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * A recipient's report that a message a business sent as transactional was
 * marketing. One per recipient and message; counts against the business in its
 * stats. Holds ids and the declared category only, never content.
 */
export const businessReports = pgTable(
  "business_reports",
  {
    reporterAccountId: uuid().notNull(),
    businessAccountId: uuid().notNull(),
    messageId: uuid().notNull(),
    /** The category the business declared, e.g. `transactional:order`. */
    declaredCategory: text().notNull(),
    /** Simulation time of the report. */
    reportedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.reporterAccountId, t.businessAccountId, t.messageId] }), index().on(t.businessAccountId)],
);
