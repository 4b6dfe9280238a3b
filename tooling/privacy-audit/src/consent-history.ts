/**
 * Every account's consent state at any instant, replayed from the messenger's
 * append-only `consent_events` the way the messenger folds them
 * (apps/messenger/src/storage/consent.ts `ConsentStore.fold`), with one
 * difference on purpose: an acceptance is replayed under the regime in force
 * when it was made (from `regime_changes`), not under today's regime, because
 * the share box the user saw depended on the regime of that moment.
 */
import {
  applyChoice,
  newAccount,
  recordedChoice,
  type ConsentState,
  type CountryCode,
  type RecordedChoice,
  type Result,
  type Timeline,
} from "@handshake/consent";
import type { RegimeHistory } from "./regime-history";

export interface AccountFacts {
  id: string;
  kind: "personal" | "business";
  country: string;
  createdAt: Date;
}

export interface ConsentEventRow {
  kind: RecordedChoice["kind"];
  policyVersion: string;
  shareWithFacebook: boolean | null;
  businessAccountId: string | null;
  at: Date;
}

/** An account's states after each of its events, for lookups at any instant. */
interface Replay {
  initial: ConsentState;
  /** `times[i]` is the `at` of the event after which `states[i]` holds. */
  times: number[];
  states: ConsentState[];
}

export class ConsentHistory {
  private readonly replays = new Map<string, Replay>();

  constructor(
    private readonly accounts: ReadonlyMap<string, AccountFacts>,
    private readonly events: ReadonlyMap<string, ConsentEventRow[]>,
    private readonly regimes: RegimeHistory,
    private readonly timeline: Timeline,
  ) {}

  /** The account's facts, or undefined when the messenger does not know it. */
  account(accountId: string): AccountFacts | undefined {
    return this.accounts.get(accountId);
  }

  /**
   * The account's consent state from its history up to and including `at`
   * (events dated later are not applied), or null for an unknown account.
   */
  stateAt(accountId: string, at: Date): ConsentState | null {
    const replay = this.replay(accountId);
    if (!replay) return null;
    const t = at.getTime();
    // Last event with time <= t.
    let lo = 0;
    let hi = replay.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (replay.times[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? replay.initial : replay.states[lo - 1]!;
  }

  private replay(accountId: string): Replay | null {
    const cached = this.replays.get(accountId);
    if (cached) return cached;
    const account = this.accounts.get(accountId);
    if (!account) return null;
    const initial = newAccount(
      { registeredAt: account.createdAt, country: account.country as CountryCode, kind: account.kind },
      this.timeline,
    );
    const replay: Replay = { initial, times: [], states: [] };
    let state = initial;
    for (const event of this.events.get(accountId) ?? []) {
      const result = this.apply(state, event);
      // As the messenger does: history was valid when recorded; a refusal now keeps the last valid state.
      if (result.ok) state = result.state;
      // Times must not go down for the lookup; the rules refuse out-of-order choices anyway.
      replay.times.push(Math.max(event.at.getTime(), replay.times.at(-1) ?? -Infinity));
      replay.states.push(state);
    }
    this.replays.set(accountId, replay);
    return replay;
  }

  private apply(state: ConsentState, event: ConsentEventRow): Result<ConsentState> {
    // ConsentEventRow is a ChoiceRecord: the same replay as the messenger's.
    return applyChoice(state, recordedChoice(event), event.at, { regime: this.regimes.at(event.at), timeline: this.timeline });
  }
}
