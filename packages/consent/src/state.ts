import { z } from "zod";
import { countryCodeSchema, type CountryCode } from "./countries";
import {
  HISTORICAL_TIMELINE,
  isPolicyVersion,
  POLICIES,
  POLICY_VERSIONS,
  policyInForce,
  policyVersionSchema,
  SHARING_POLICY_VERSION,
  type PolicyVersion,
  type Timeline,
} from "./policy";
import { accept, refuse, type Refusal, type Result } from "./refusals";
import { regimeFor, type RegimeInput } from "./regimes";

export const ACCOUNT_KINDS = ["personal", "business"] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];
export const accountKindSchema = z.enum(ACCOUNT_KINDS);

/**
 * How the share choice was made.
 * - `default-ticked`: accepted with the pre-ticked box left ticked (shares; open in Settings for the window).
 * - `unticked-at-acceptance`: unticked the pre-ticked box when accepting (does not share; final).
 * - `settings-within-window`: turned sharing off in Settings > Account within the window (final).
 * - `not-offered`: registered after the change, so no box was shown (shares; final).
 * - `ticked-at-acceptance`: ticked an unticked box (the `optin` presentation; an explicit yes).
 * - `left-unticked`: left an unticked box alone (the `optin` presentation; does not share; final).
 */
export const SHARE_CHOICE_METHODS = [
  "default-ticked",
  "unticked-at-acceptance",
  "settings-within-window",
  "not-offered",
  "ticked-at-acceptance",
  "left-unticked",
] as const;
export type ShareChoiceMethod = (typeof SHARE_CHOICE_METHODS)[number];

/** The "share my account information with Facebook" choice. */
export interface ShareChoice {
  readonly shareWithFacebook: boolean;
  readonly method: ShareChoiceMethod;
  readonly madeAt: Date;
  /** From this instant on the choice cannot be changed (equal to `madeAt` when it was final at once). */
  readonly finalAt: Date;
}

/** Per-business choices of one recipient (see business.ts). */
export interface BusinessChoice {
  readonly blocked: boolean;
  readonly marketingOptOut: boolean;
}

/**
 * One account's consent state. Immutable: transitions return a new object.
 * `share` is null until the account accepts the 2016 terms.
 */
export interface ConsentState {
  readonly kind: AccountKind;
  /** ISO 3166-1 alpha-2, upper case. */
  readonly country: CountryCode;
  readonly registeredAt: Date;
  /** The latest accepted terms and when; null for an account registered after the change that has not accepted yet. */
  readonly terms: { readonly version: PolicyVersion; readonly acceptedAt: Date } | null;
  readonly share: ShareChoice | null;
  /** Keyed by business account id. Absent means "not blocked, marketing allowed". */
  readonly businesses: Readonly<Record<string, BusinessChoice>>;
}

/** Validates a consent state read from storage. */
export const consentStateSchema = z.object({
  kind: accountKindSchema,
  country: countryCodeSchema,
  registeredAt: z.date(),
  terms: z.object({ version: policyVersionSchema, acceptedAt: z.date() }).nullable(),
  share: z
    .object({
      shareWithFacebook: z.boolean(),
      method: z.enum(SHARE_CHOICE_METHODS),
      madeAt: z.date(),
      finalAt: z.date(),
    })
    .nullable(),
  businesses: z.record(z.string(), z.object({ blocked: z.boolean(), marketingOptOut: z.boolean() })),
});

function invalid(at: Date): boolean {
  return !(at instanceof Date) || Number.isNaN(at.getTime());
}

/** The latest instant recorded in the state; choices must not be dated before it. */
export function lastChangeAt(state: ConsentState): Date {
  const times = [state.registeredAt, state.terms?.acceptedAt, state.share?.madeAt].filter(
    (t): t is Date => t !== undefined,
  );
  return new Date(Math.max(...times.map((t) => t.getTime())));
}

/** True when the account registered on or after the announcement: such users get no share choice under the 2016 rules. */
export function isNewUser(state: ConsentState, timeline: Timeline = HISTORICAL_TIMELINE): boolean {
  return state.registeredAt.getTime() >= timeline.announcedAt.getTime();
}

/**
 * A freshly registered account. Before the announcement, registering accepted the 2012
 * terms. From the announcement on, the account must still call `acceptTerms` with the
 * 2016 terms (the messenger does so as part of registration).
 */
export function newAccount(
  input: { registeredAt: Date; country: CountryCode; kind?: AccountKind },
  timeline: Timeline = HISTORICAL_TIMELINE,
): ConsentState {
  const registeredAt = new Date(input.registeredAt.getTime());
  const version = policyInForce(registeredAt, timeline);
  return {
    kind: input.kind ?? "personal",
    country: input.country,
    registeredAt,
    terms: POLICIES[version].sharesWithFacebook ? null : { version, acceptedAt: registeredAt },
    share: null,
    businesses: {},
  };
}

/**
 * The share box shown with the 2016 terms: `pre-ticked` for existing users (what
 * happened), `none` for users registered after the change (no choice), `unticked` for
 * everyone when the account's country is under the `optin` regime.
 */
export type ShareBox = "pre-ticked" | "unticked" | "none";

/** Which share box this account sees when accepting the 2016 terms at `at` under `regime`. */
export function shareBoxFor(
  state: ConsentState,
  at: Date,
  regime: RegimeInput = "optout-2016",
  timeline: Timeline = HISTORICAL_TIMELINE,
): ShareBox {
  if (regimeFor(regime, state.country, at) === "optin") return "unticked";
  return isNewUser(state, timeline) ? "none" : "pre-ticked";
}

export interface AcceptTermsInput {
  /** Unvalidated on purpose: an unknown version is a refusal, not an exception. */
  readonly version: string;
  /** The state of the box when the user pressed "Agree". Must be true when no box is shown. */
  readonly shareWithFacebook: boolean;
  readonly at: Date;
}

export interface RuleContext {
  /** Decides the share box (see `shareBoxFor`). Default `optout-2016`. */
  readonly regime?: RegimeInput;
  readonly timeline?: Timeline;
}

/**
 * Accept the terms in force at `at`. For the 2016 terms this also records the share
 * choice and when it becomes final. Accepting after the deadline is allowed (it restores
 * service). Refusals: `invalid-time`, `unknown-policy-version`, `out-of-order`,
 * `not-current-policy`, `already-accepted`, `no-choice-for-new-users`.
 */
export function acceptTerms(state: ConsentState, input: AcceptTermsInput, context: RuleContext = {}): Result<ConsentState> {
  const timeline = context.timeline ?? HISTORICAL_TIMELINE;
  const { version, shareWithFacebook, at } = input;
  if (invalid(at)) return refuse("invalid-time", "The time of the acceptance is not a valid date.");
  if (!isPolicyVersion(version)) {
    return refuse(
      "unknown-policy-version",
      `There is no policy version "${version}"; known versions: ${POLICY_VERSIONS.join(", ")}.`,
    );
  }
  const last = lastChangeAt(state);
  if (at.getTime() < last.getTime()) {
    return refuse("out-of-order", `This acceptance is dated ${at.toISOString()}, before the account's last change at ${last.toISOString()}.`);
  }
  const inForce = policyInForce(at, timeline);
  if (version !== inForce) {
    return refuse("not-current-policy", `Version ${version} is not the policy in force at ${at.toISOString()}; accept ${inForce}.`);
  }
  if (state.terms?.version === version) {
    return refuse("already-accepted", `Version ${version} was already accepted at ${state.terms.acceptedAt.toISOString()}.`);
  }
  const acceptedAt = new Date(at.getTime());
  if (!POLICIES[version].sharesWithFacebook) {
    return accept({ ...state, terms: { version, acceptedAt } });
  }
  const box = shareBoxFor(state, at, context.regime, timeline);
  const windowEnd = new Date(acceptedAt.getTime() + timeline.optOutWindowMs);
  let share: ShareChoice;
  if (box === "none") {
    if (!shareWithFacebook) {
      return refuse(
        "no-choice-for-new-users",
        "Accounts registered after the 2016 change are not offered a choice: accept with shareWithFacebook = true.",
      );
    }
    share = { shareWithFacebook: true, method: "not-offered", madeAt: acceptedAt, finalAt: acceptedAt };
  } else if (box === "pre-ticked") {
    share = shareWithFacebook
      ? { shareWithFacebook: true, method: "default-ticked", madeAt: acceptedAt, finalAt: windowEnd }
      : { shareWithFacebook: false, method: "unticked-at-acceptance", madeAt: acceptedAt, finalAt: acceptedAt };
  } else {
    share = shareWithFacebook
      ? { shareWithFacebook: true, method: "ticked-at-acceptance", madeAt: acceptedAt, finalAt: windowEnd }
      : { shareWithFacebook: false, method: "left-unticked", madeAt: acceptedAt, finalAt: acceptedAt };
  }
  return accept({ ...state, terms: { version, acceptedAt }, share });
}

/**
 * Turn sharing off in Settings > Account. Only within the window after accepting (the
 * window is fixed at acceptance: `share.finalAt`), irreversible. Refusals: `invalid-time`,
 * `out-of-order`, `terms-not-accepted`, `no-choice-for-new-users`, `already-opted-out`,
 * `choice-window-closed`.
 */
export function optOutInSettings(state: ConsentState, at: Date): Result<ConsentState> {
  if (invalid(at)) return refuse("invalid-time", "The time of the choice is not a valid date.");
  const last = lastChangeAt(state);
  if (at.getTime() < last.getTime()) {
    return refuse("out-of-order", `This choice is dated ${at.toISOString()}, before the account's last change at ${last.toISOString()}.`);
  }
  const share = state.share;
  if (state.terms?.version !== SHARING_POLICY_VERSION || share === null) {
    return refuse("terms-not-accepted", `There is no share choice to change before the ${SHARING_POLICY_VERSION} terms are accepted.`);
  }
  if (share.method === "not-offered") {
    return refuse("no-choice-for-new-users", "Accounts registered after the 2016 change have no share choice.");
  }
  if (!share.shareWithFacebook) {
    return refuse("already-opted-out", `Sharing was already turned off at ${share.madeAt.toISOString()}.`);
  }
  if (at.getTime() >= share.finalAt.getTime()) {
    return refuse("choice-window-closed", `The share choice became final at ${share.finalAt.toISOString()}.`);
  }
  const madeAt = new Date(at.getTime());
  return accept({ ...state, share: { shareWithFacebook: false, method: "settings-within-window", madeAt, finalAt: madeAt } });
}

/** True when `optOutInSettings(account, at)` would succeed. */
export function canChangeShareChoice(account: ConsentState, at: Date): boolean {
  return optOutInSettings(account, at).ok;
}

/**
 * Why the account cannot send or receive at `at`, or null when it can. Existing users keep
 * service until the acceptance deadline; after it, and for new users from registration,
 * only accepting the 2016 terms gives service. Codes: `invalid-time`, `not-registered`,
 * `terms-not-accepted`.
 */
export function serviceRefusal(account: ConsentState, at: Date, timeline: Timeline = HISTORICAL_TIMELINE): Refusal | null {
  if (invalid(at)) return { code: "invalid-time", message: "The time of the check is not a valid date." };
  if (at.getTime() < account.registeredAt.getTime()) {
    return { code: "not-registered", message: `The account was registered at ${account.registeredAt.toISOString()}.` };
  }
  const inForce = policyInForce(at, timeline);
  const terms = account.terms;
  if (terms && terms.acceptedAt.getTime() <= at.getTime() && POLICY_VERSIONS.indexOf(terms.version) >= POLICY_VERSIONS.indexOf(inForce)) {
    return null;
  }
  if (!isNewUser(account, timeline) && at.getTime() < timeline.acceptanceDeadline.getTime()) return null;
  return {
    code: "terms-not-accepted",
    message: isNewUser(account, timeline)
      ? `Accept the ${inForce} terms to use the service.`
      : `The ${inForce} terms had to be accepted by ${timeline.acceptanceDeadline.toISOString()}; accept them to use the service again.`,
  };
}

/** True when the account may send and receive messages at `at` (see `serviceRefusal`). */
export function canUseService(account: ConsentState, at: Date, timeline: Timeline = HISTORICAL_TIMELINE): boolean {
  return serviceRefusal(account, at, timeline) === null;
}
