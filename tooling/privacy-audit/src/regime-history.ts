/**
 * The consent regime in force at any instant, from the messenger's
 * `regime_changes` history (each row applies from its `at` until the next).
 */
import { regimeFor, regimeInputSchema, RegimeTimeline, type CountryCode, type Regime, type RegimeInput } from "@handshake/consent";

/** Regimes that share nothing at all with Facebook. */
const BANS: readonly Regime[] = ["de-ban-2016", "none"];

export class RegimeHistory {
  private readonly timeline: RegimeTimeline;

  /**
   * @param rows `regime_changes` rows in id order; each regime is validated.
   * @param fallback the regime assumed when the history is empty (the messenger's default).
   */
  constructor(rows: { regime: unknown; at: Date }[], fallback: RegimeInput) {
    const changes = rows.map((row) => {
      const parsed = regimeInputSchema.safeParse(row.regime);
      if (!parsed.success) throw new Error(`regime_changes holds a regime the rules do not know: ${JSON.stringify(row.regime)}`);
      return { regime: parsed.data as RegimeInput, at: row.at };
    });
    // The same lookup the messenger uses (before the first change, the first change's regime applies).
    this.timeline = new RegimeTimeline(changes, fallback);
  }

  get size(): number {
    return this.timeline.size;
  }

  /** The regime in force at `at`. */
  at(at: Date): RegimeInput {
    return this.timeline.at(at);
  }

  /** True when an account in `country` may share nothing at all at `at` (`de-ban-2016` or `none`). */
  bannedAt(country: string, at: Date): boolean {
    return BANS.includes(regimeFor(this.at(at), country as CountryCode, at));
  }
}
