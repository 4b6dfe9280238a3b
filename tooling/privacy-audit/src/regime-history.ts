/**
 * The consent regime in force at any instant, from the messenger's
 * `regime_changes` history (each row applies from its `at` until the next).
 */
import { regimeFor, regimeInputSchema, type CountryCode, type Regime, type RegimeInput } from "@handshake/consent";

export interface RegimeChange {
  regime: RegimeInput;
  at: Date;
}

/** Regimes that share nothing at all with Facebook. */
const BANS: readonly Regime[] = ["de-ban-2016", "none"];

export class RegimeHistory {
  private readonly changes: RegimeChange[];

  /**
   * @param rows `regime_changes` rows in id order; each regime is validated.
   * @param fallback the regime assumed when the history is empty (the messenger's default).
   */
  constructor(
    rows: { regime: unknown; at: Date }[],
    private readonly fallback: RegimeInput,
  ) {
    this.changes = rows
      .map((row) => {
        const parsed = regimeInputSchema.safeParse(row.regime);
        if (!parsed.success) throw new Error(`regime_changes holds a regime the rules do not know: ${JSON.stringify(row.regime)}`);
        return { regime: parsed.data as RegimeInput, at: row.at };
      })
      // Stable: rows recorded at the same instant keep their id order, the later one wins.
      .sort((a, b) => a.at.getTime() - b.at.getTime());
  }

  get size(): number {
    return this.changes.length;
  }

  /**
   * The regime in force at `at`. Before the first recorded change, the first
   * recorded regime applies (the messenger records its configured regime when it
   * first starts, possibly after seeded history).
   */
  at(at: Date): RegimeInput {
    const first = this.changes[0];
    if (!first) return this.fallback;
    const t = at.getTime();
    let lo = 0;
    let hi = this.changes.length - 1;
    if (t < first.at.getTime()) return first.regime;
    // Last change with change.at <= t.
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.changes[mid]!.at.getTime() <= t) lo = mid;
      else hi = mid - 1;
    }
    return this.changes[lo]!.regime;
  }

  /** True when an account in `country` may share nothing at all at `at` (`de-ban-2016` or `none`). */
  bannedAt(country: string, at: Date): boolean {
    return BANS.includes(regimeFor(this.at(at), country as CountryCode));
  }
}
