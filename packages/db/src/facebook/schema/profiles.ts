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
  // (phone, id): "the lowest id holding this number" is one index probe; on (phone) alone the
  // planner walked the primary key in id order instead, ~5 ms per unmatched number at 17k profiles.
  (t) => [index("profiles_phone_number_id_index").on(t.phoneNumber, t.id), index("profiles_country_name_index").on(t.country, t.name)],
);

/** Phone numbers from address books people uploaded to Facebook themselves (Facebook's own data). */
export const addressBookEntries = pgTable(
  "address_book_entries",
  {
    profileId: bigint({ mode: "number" }).notNull(),
    phoneNumber: text().notNull(),
    /**
     * The name the uploader saved the number under, as their phone held it (null when
     * unknown). With the number WhatsApp verified, it is the key that links a profile
     * holding no number or a stale one (apps/facebook/src/storage/name-links.ts).
     */
    contactName: text(),
  },
  (t) => [primaryKey({ columns: [t.profileId, t.phoneNumber] }), index().on(t.phoneNumber)],
);
