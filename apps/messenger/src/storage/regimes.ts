/**
 * The consent regime over time (regime_changes), persisted. Decisions about a
 * moment use the regime in force then: an acceptance made under `optout-2016`
 * stays a pre-ticked box after a later switch to `optin`.
 */
import { regimeInputSchema, RegimeTimeline, type RegimeInput } from "@handshake/consent";
import { drizzleOn } from "@handshake/db/client";
import { regimeChanges } from "@handshake/db/messenger-schema";
import { asc } from "drizzle-orm";
import type postgres from "postgres";

export class RegimeHistory {
  private constructor(private readonly timeline: RegimeTimeline) {}

  static async load(sql: postgres.Sql, fallback: RegimeInput): Promise<RegimeHistory> {
    const rows = await drizzleOn(sql)
      .select({ regime: regimeChanges.regime, at: regimeChanges.at })
      .from(regimeChanges)
      .orderBy(asc(regimeChanges.id));
    // Parsed, not cast: a dated spec's `from` is stored as an ISO string and must come back a Date.
    const changes = rows.map((row) => ({ regime: regimeInputSchema.parse(row.regime) as RegimeInput, at: row.at }));
    return new RegimeHistory(new RegimeTimeline(changes, fallback));
  }

  /** The regime in force now (the latest recorded). */
  get current(): RegimeInput {
    return this.timeline.current;
  }

  /** The regime in force at `date`; before the first record, the first record's. */
  at(date: Date): RegimeInput {
    return this.timeline.at(date);
  }

  recorded(): boolean {
    return this.timeline.size > 0;
  }

  async record(sql: postgres.Sql, regime: RegimeInput, at: Date): Promise<void> {
    await drizzleOn(sql).insert(regimeChanges).values({ regime, at });
    this.timeline.push({ regime, at });
  }
}
