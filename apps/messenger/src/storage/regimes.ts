/**
 * The consent regime over time (regime_changes). Decisions about a moment use
 * the regime in force then: an acceptance made under `optout-2016` stays a
 * pre-ticked box after a later switch to `optin`.
 */
import type { RegimeInput } from "@handshake/consent";
import type postgres from "postgres";

interface Entry {
  at: number;
  regime: RegimeInput;
}

export class RegimeHistory {
  private constructor(
    private entries: Entry[],
    private readonly fallback: RegimeInput,
  ) {}

  static async load(sql: postgres.Sql, fallback: RegimeInput): Promise<RegimeHistory> {
    const rows = await sql<{ regime: RegimeInput; at: Date }[]>`select regime, at from regime_changes order by id`;
    return new RegimeHistory(
      rows.map((r) => ({ at: r.at.getTime(), regime: r.regime })),
      fallback,
    );
  }

  /** The regime in force now (the latest recorded). */
  get current(): RegimeInput {
    return this.entries.at(-1)?.regime ?? this.fallback;
  }

  /** The regime in force at `date`; before the first record, the first record's. */
  at(date: Date): RegimeInput {
    const t = date.getTime();
    let found: RegimeInput | null = null;
    for (const entry of this.entries) {
      if (entry.at <= t) found = entry.regime;
      else break;
    }
    return found ?? this.entries[0]?.regime ?? this.fallback;
  }

  recorded(): boolean {
    return this.entries.length > 0;
  }

  async record(sql: postgres.Sql, regime: RegimeInput, at: Date): Promise<void> {
    await sql`insert into regime_changes (regime, at) values (${sql.json(regime as never)}, ${at})`;
    this.entries.push({ at: at.getTime(), regime });
  }
}
