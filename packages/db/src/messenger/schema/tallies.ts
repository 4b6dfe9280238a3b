/**
 * Running counts for the dashboard, kept by triggers (migration `dashboard_tallies`)
 * so the overview reads a few hundred rows instead of counting a million. Each
 * count is spread over 16 slots (from the shard or the account id) so concurrent
 * registrations do not queue on one row; readers sum the slots.
 */
import { bigint, integer, pgTable, primaryKey, smallint, text } from "drizzle-orm/pg-core";

/** Accounts per country and kind. */
export const accountTallies = pgTable(
  "account_tallies",
  {
    slot: smallint().notNull(),
    country: text().notNull(),
    kind: text().notNull(),
    accounts: bigint({ mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.slot, t.country, t.kind] })],
);

/** Accounts per shard (the overview counts shards with accounts). */
export const shardTallies = pgTable("shard_tallies", {
  shard: integer().primaryKey(),
  accounts: bigint({ mode: "number" }).notNull(),
});

/**
 * Named counts: `devices`, and consent figures counted once per account
 * (`consent:accepted:<policy version>`, `consent:unticked`, `consent:opted-out`).
 */
export const tallies = pgTable(
  "tallies",
  {
    name: text().notNull(),
    slot: smallint().notNull(),
    n: bigint({ mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.name, t.slot] })],
);
