import { bigint, bigserial, boolean, index, pgTable, primaryKey, smallint, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * Every consent and business choice, appended and never updated: who, what, when
 * (simulation time), under which policy version. An account's consent state is the
 * fold of its events through `@handshake/consent`.
 */
export const consentEvents = pgTable(
  "consent_events",
  {
    id: bigserial({ mode: "bigint" }).primaryKey(),
    accountId: uuid().notNull(),
    kind: text({
      enum: [
        "terms-accepted",
        "share-opted-out",
        "business-blocked",
        "business-unblocked",
        "marketing-opted-out",
        "marketing-opted-in",
      ],
    }).notNull(),
    /** The policy version accepted, or in force when the choice was made. */
    policyVersion: text().notNull(),
    /** terms-accepted: the state of the share box when the user agreed. */
    shareWithFacebook: boolean(),
    /** How the share choice was made (see ShareChoiceMethod in @handshake/consent). */
    method: text(),
    /** Business choices: the business concerned. */
    businessAccountId: uuid(),
    /** Simulation time of the choice. */
    at: timestamp({ withTimezone: true }).notNull(),
    /** Wall-clock time it was recorded. */
    recordedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.accountId, t.id)],
);

/**
 * The simulation clock, so simulated time survives a restart: simulated time is
 * `simMs + (now - realMs)`. One row.
 */
export const simulationClock = pgTable("simulation_clock", {
  id: smallint().primaryKey().default(1),
  simMs: bigint({ mode: "number" }).notNull(),
  realMs: bigint({ mode: "number" }).notNull(),
});

/**
 * Regulators' dates already handled (apps/messenger/src/share/regulatory-dates.ts):
 * one row per dated switch (its instant and countries, `*` for all), with the last
 * account whose snapshot it wrote, so a restart resumes where it stopped and a date
 * handled once is never handled again.
 */
export const regulatoryDates = pgTable(
  "regulatory_dates",
  {
    at: timestamp({ withTimezone: true }).notNull(),
    scope: text().notNull(),
    cursor: uuid().notNull(),
    done: boolean().notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.at, t.scope] })],
);
