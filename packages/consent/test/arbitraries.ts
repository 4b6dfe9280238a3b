// fast-check arbitraries and a script runner shared by the consent property tests.
import fc from "fast-check";
import {
  blockBusiness,
  canChangeShareChoice,
  canUseService,
  makeTimeline,
  mayDeliver,
  mayShare,
  newAccount,
  optOutInSettings,
  optOutOfMarketing,
  PURPOSES,
  REGIMES,
  acceptTerms,
  unblockBusiness,
  type BusinessCategory,
  type ConsentState,
  type RegimeInput,
  type Result,
  type Timeline,
} from "../src/index";

export const DAY = 24 * 60 * 60 * 1000;

export const COUNTRIES = ["DE", "GB", "FR", "IE", "IN", "BR", "US", "ID", "MX", "RU"] as const;
export const BUSINESSES = ["biz-airline", "biz-shop"] as const;
export const CATEGORIES: readonly BusinessCategory[] = [
  { kind: "transactional", topic: "receipt" },
  { kind: "transactional", topic: "flight-status" },
  { kind: "transactional", topic: "delivery" },
  { kind: "transactional", topic: "fraud-alert" },
  { kind: "marketing" },
];

export const countryArb = fc.constantFrom(...COUNTRIES);

export const regimeArb: fc.Arbitrary<RegimeInput> = fc.oneof(
  fc.constantFrom<RegimeInput>(...REGIMES, "historical-2016"),
  fc.record({
    base: fc.constantFrom(...REGIMES),
    byCountry: fc.dictionary(countryArb, fc.constantFrom(...REGIMES), { maxKeys: 4 }),
  }),
);

export const timelineArb: fc.Arbitrary<Timeline> = fc
  .record({ acceptanceDays: fc.integer({ min: 1, max: 60 }), optOutWindowDays: fc.integer({ min: 1, max: 60 }) })
  .map((p) => makeTimeline(p));

/**
 * Registration from 90 days before to 90 days after the 2016 announcement, so scripts
 * of a few steps reach the rollout for existing users and new users appear too.
 */
export const registeredAtArb = fc
  .integer({ min: Date.parse("2016-08-25T00:00:00Z") - 90 * DAY, max: Date.parse("2016-08-25T00:00:00Z") + 90 * DAY })
  .map((ms) => new Date(ms));

export const accountArb = fc
  .record({ registeredAt: registeredAtArb, country: countryArb, kind: fc.constantFrom("personal" as const, "business" as const) });

export type Action =
  | { type: "wait" }
  | { type: "accept"; version: string; shareWithFacebook: boolean }
  | { type: "optOut" }
  | { type: "block"; business: string }
  | { type: "unblock"; business: string }
  | { type: "marketingOptOut"; business: string };

/** Weighted towards accepting the 2016 terms so that most scripts reach a share choice. */
export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.constant<Action>({ type: "wait" }), weight: 2 },
  {
    arbitrary: fc.record({
      type: fc.constant("accept" as const),
      version: fc.oneof(
        { arbitrary: fc.constant("2016-08-25"), weight: 6 },
        { arbitrary: fc.constantFrom("2012-07-07", "2099-01-01", ""), weight: 1 },
      ),
      shareWithFacebook: fc.boolean(),
    }),
    weight: 4,
  },
  { arbitrary: fc.constant<Action>({ type: "optOut" }), weight: 3 },
  { arbitrary: fc.record({ type: fc.constant("block" as const), business: fc.constantFrom(...BUSINESSES) }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant("unblock" as const), business: fc.constantFrom(...BUSINESSES) }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant("marketingOptOut" as const), business: fc.constantFrom(...BUSINESSES) }), weight: 1 },
);

/** Steps: a delay (minutes to months, so windows and deadlines are both hit and missed) then an action. */
export const scriptArb = fc.array(
  fc.record({
    delayMs: fc.oneof(
      fc.integer({ min: 0, max: 2 * DAY }),
      fc.integer({ min: 0, max: 45 * DAY }),
      fc.integer({ min: 0, max: 250 * DAY }),
    ),
    action: actionArb,
  }),
  { maxLength: 16 },
);

export type Script = readonly { delayMs: number; action: Action }[];

export function applyAction(
  state: ConsentState,
  action: Action,
  at: Date,
  regime: RegimeInput,
  timeline: Timeline,
): Result<ConsentState> | null {
  switch (action.type) {
    case "wait":
      return null;
    case "accept":
      return acceptTerms(state, { version: action.version, shareWithFacebook: action.shareWithFacebook, at }, { regime, timeline });
    case "optOut":
      return optOutInSettings(state, at);
    case "block":
      return blockBusiness(state, action.business);
    case "unblock":
      return unblockBusiness(state, action.business);
    case "marketingOptOut":
      return optOutOfMarketing(state, action.business);
  }
}

/** Every decision the package makes about one account at one instant, keyed by name. */
export function decisions(state: ConsentState, at: Date, regime: RegimeInput, timeline: Timeline): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const purpose of PURPOSES) out[`share:${purpose}`] = mayShare(state, purpose, at, regime);
  out["service"] = canUseService(state, at, timeline);
  out["changeShareChoice"] = canChangeShareChoice(state, at);
  for (const business of BUSINESSES) {
    for (const category of CATEGORIES) {
      const label = category.kind === "marketing" ? "marketing" : category.topic;
      out[`deliver:${business}:${label}`] = mayDeliver(state, { id: business, kind: "business" }, category);
    }
  }
  return out;
}

export interface Step {
  readonly at: Date;
  readonly action: Action;
  readonly result: Result<ConsentState> | null;
  readonly before: ConsentState;
  readonly after: ConsentState;
  /** True when applying the action changed the state it was given. */
  readonly mutatedInput: boolean;
}

/** Runs a script from a fresh account; the clock starts at registration. */
export function runScript(
  account: { registeredAt: Date; country: string; kind: "personal" | "business" },
  script: Script,
  regime: RegimeInput,
  timeline: Timeline,
): Step[] {
  let state = newAccount(account, timeline);
  let t = account.registeredAt.getTime();
  const steps: Step[] = [];
  for (const { delayMs, action } of script) {
    t += delayMs;
    const at = new Date(t);
    const snapshot = JSON.stringify(state);
    const result = applyAction(state, action, at, regime, timeline);
    const after = result?.ok ? result.state : state;
    steps.push({ at, action, result, before: state, after, mutatedInput: JSON.stringify(state) !== snapshot });
    state = after;
  }
  return steps;
}
