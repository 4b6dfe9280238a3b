import { bigint, index, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Facebook's own people, synthetic. Some have a phone number (their own, current
 * or stale), some none; many are not on WhatsApp. Ids come from the population.
 */
export const profiles = pgTable(
  "profiles",
  {
    id: bigint({ mode: "number" }).primaryKey(),
    name: text().notNull(),
    country: text().notNull(),
    /** E.164, as Facebook knows it (may be outdated); null when it has none. */
    phoneNumber: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.phoneNumber)],
);

/** Phone numbers from address books people uploaded to Facebook themselves (Facebook's own data). */
export const addressBookEntries = pgTable(
  "address_book_entries",
  {
    profileId: bigint({ mode: "number" }).notNull(),
    phoneNumber: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.profileId, t.phoneNumber] }), index().on(t.phoneNumber)],
);
