/**
 * Consent as a recorded history: the choices an account made, replayed through
 * the rules, and the regime in force over time. The messenger folds its
 * `consent_events` with these, and the privacy audit replays the same history
 * with the same functions, so the two cannot disagree about what a record means.
 */
import { blockBusiness, optInToMarketing, optOutOfMarketing, unblockBusiness } from "./business";
import type { Result } from "./refusals";
import type { RegimeInput } from "./regimes";
import { acceptTerms, optOutInSettings, type ConsentState, type RuleContext } from "./state";

/** One recorded choice, as the history stores it. */
export type RecordedChoice =
  | { readonly kind: "terms-accepted"; readonly version: string; readonly shareWithFacebook: boolean }
  | { readonly kind: "share-opted-out" }
  | {
      readonly kind: "business-blocked" | "business-unblocked" | "marketing-opted-out" | "marketing-opted-in";
      readonly businessAccountId: string;
    };

export const RECORDED_CHOICE_KINDS = [
  "terms-accepted",
  "share-opted-out",
  "business-blocked",
  "business-unblocked",
  "marketing-opted-out",
  "marketing-opted-in",
] as const;

/** One stored record of a choice (the columns of a history table, whatever their names). */
export interface ChoiceRecord {
  readonly kind: RecordedChoice["kind"];
  readonly policyVersion: string;
  readonly shareWithFacebook: boolean | null;
  readonly businessAccountId: string | null;
}

/** The choice a stored record describes. */
export function recordedChoice(record: ChoiceRecord): RecordedChoice {
  switch (record.kind) {
    case "terms-accepted":
      return { kind: record.kind, version: record.policyVersion, shareWithFacebook: Boolean(record.shareWithFacebook) };
    case "share-opted-out":
      return { kind: record.kind };
    default:
      return { kind: record.kind, businessAccountId: record.businessAccountId ?? "" };
  }
}

/**
 * Applies one recorded choice made at `at`. `context.regime` must be the regime
 * in force at `at` (it decides which share box the user saw).
 */
export function applyChoice(
  state: ConsentState,
  choice: RecordedChoice,
  at: Date,
  context: RuleContext = {},
): Result<ConsentState> {
  switch (choice.kind) {
    case "terms-accepted":
      return acceptTerms(state, { version: choice.version, shareWithFacebook: choice.shareWithFacebook, at }, context);
    case "share-opted-out":
      return optOutInSettings(state, at);
    case "business-blocked":
      return blockBusiness(state, choice.businessAccountId);
    case "business-unblocked":
      return unblockBusiness(state, choice.businessAccountId);
    case "marketing-opted-out":
      return optOutOfMarketing(state, choice.businessAccountId);
    case "marketing-opted-in":
      return optInToMarketing(state, choice.businessAccountId);
  }
}

export interface RegimeChange {
  readonly regime: RegimeInput;
  readonly at: Date;
}

/**
 * The regime over time: each change applies from its `at` until the next. Before
 * the first change, the first change's regime applies (a deployment records its
 * configured regime when it first starts, possibly after older history).
 */
export class RegimeTimeline {
  private readonly changes: RegimeChange[];

  /** @param changes in the order they were recorded; `fallback` applies when there are none. */
  constructor(
    changes: readonly RegimeChange[],
    private readonly fallback: RegimeInput,
  ) {
    // Stable sort: changes recorded at the same instant keep their order; the later wins.
    this.changes = [...changes].sort((a, b) => a.at.getTime() - b.at.getTime());
  }

  get size(): number {
    return this.changes.length;
  }

  /** The latest change's regime (or the fallback). */
  get current(): RegimeInput {
    return this.changes.at(-1)?.regime ?? this.fallback;
  }

  at(date: Date): RegimeInput {
    const first = this.changes[0];
    if (!first) return this.fallback;
    const t = date.getTime();
    let found = first.regime;
    for (const change of this.changes) {
      if (change.at.getTime() <= t) found = change.regime;
      else break;
    }
    return found;
  }

  /** Records a change after the existing ones. */
  push(change: RegimeChange): void {
    this.changes.push(change);
  }
}
