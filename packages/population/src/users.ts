import { type ActivityClass, type Os, type PopulationSpec } from "./spec";
import { draw, keyOf, unit } from "./hash";
import { type CountryModel, type Model, countryIndexAt, modelOf } from "./model";
import { nameFrom } from "./names";

/** What a user did with the August 2016 terms. */
export type ConsentBehaviour =
  /** accepted with the sharing box ticked and kept it */
  | "accepts"
  /** unticked the box when accepting */
  | "unticks"
  /** accepted ticked, opted out in Settings within the window */
  | "opts-out-later"
  /** never accepted the new terms */
  | "never-accepts"
  /** registered after the change: no choice offered */
  | "registered-after";

/** Whether the user's Facebook profile holds their current number, an old one, or none. */
export type FacebookPhoneState = "current" | "stale" | "none";

/** A WhatsApp user without the name (the cheap part; see {@link userAt}). */
export interface UserCore {
  /** i in [0, N). */
  id: number;
  shard: number;
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** E.164, valid mobile number for the country, unique in the population. */
  phone: string;
  os: Os;
  osVersion: string;
  appVersion: string;
  deviceModel: string;
  /** Registration time, epoch milliseconds UTC (whole seconds). */
  registeredAt: number;
  activity: ActivityClass;
  /** Mean messages sent per day (log-normal within the activity class). */
  messagesPerDay: number;
  /** Id of the user's Facebook profile (equal to `id`), or null without one. */
  facebookProfileId: number | null;
  facebookPhone: FacebookPhoneState;
  consent: ConsentBehaviour;
  /** Days after the policy change when the terms are accepted (null: never or not offered). */
  acceptsAfterDays: number | null;
  /** Days after the policy change when sharing for ads/products is refused (null: never). */
  optsOutAfterDays: number | null;
  business: boolean;
}

/** A WhatsApp user of the population. */
export interface User extends UserCore {
  /** Name from the country's faker locale. */
  name: string;
}

// Field numbers for per-user draws. Append only: renumbering changes every user.
const F_OS = 0;
const F_OS_VERSION = 1;
const F_APP_VERSION = 2;
const F_MODEL = 3;
const F_REGISTERED = 4;
const F_ACTIVITY = 5;
const F_MSG_A = 6;
const F_MSG_B = 7;
const F_FACEBOOK = 8;
const F_FB_PHONE = 9;
const F_FB_CURRENT = 10;
const F_CONSENT = 11;
const F_ACCEPT_DAY = 12;
const F_OPT_OUT_DAY = 13;
const F_BUSINESS = 14;
const F_NAME = 15;

/** Position of user i in the permuted space, its country and its index there. */
export interface Placement {
  country: CountryModel;
  /** Index of the user inside its country, in [0, n_c). */
  local: number;
}

/** Where user i sits: its country and in-country index. */
export function placementOf(m: Model, i: number): Placement {
  const p = m.users.forward(i);
  const country = m.countries[countryIndexAt(m.countryEnds, p)]!;
  return { country, local: p - country.start };
}

/** The user id at in-country index `local` of country model `c` (inverse of placementOf). */
export function userIdAt(m: Model, c: CountryModel, local: number): number {
  return m.users.inverse(c.start + local);
}

export function checkUserId(spec: PopulationSpec, i: number): void {
  if (!Number.isSafeInteger(i) || i < 0 || i >= spec.size) {
    throw new RangeError(`user id must be an integer in [0, ${spec.size}), got ${i}`);
  }
}

function registeredAt(m: Model, u: number): number {
  const { ms, cum } = m.registration;
  let k = 1;
  while (k < cum.length - 1 && u >= cum[k]!) k++;
  const c0 = cum[k - 1]!;
  const span = cum[k]! - c0;
  const t = span > 0 ? ms[k - 1]! + ((u - c0) / span) * (ms[k]! - ms[k - 1]!) : ms[k - 1]!;
  return Math.floor(t / 1000) * 1000;
}

function core(m: Model, i: number, key: number, c: CountryModel, local: number): UserCore {
  const spec = m.spec;
  const os = m.os.pick(draw(key, F_OS));
  const activityIndex = m.activity.index(draw(key, F_ACTIVITY));
  const [mu, sigma] = m.activityLog[activityIndex]!;
  // Box-Muller: u1 in (0, 1] so the log is finite
  const u1 = (draw(key, F_MSG_A) + 1) / 4294967296;
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * unit(draw(key, F_MSG_B)));
  const messagesPerDay = Math.round(Math.exp(mu + sigma * z) * 10) / 10;

  const fb = spec.facebook;
  const hasFacebook = unit(draw(key, F_FACEBOOK)) < fb.hasProfile;
  let facebookPhone: FacebookPhoneState = "none";
  if (hasFacebook && unit(draw(key, F_FB_PHONE)) < fb.profileHasPhone) {
    facebookPhone = unit(draw(key, F_FB_CURRENT)) < fb.phoneCurrent ? "current" : "stale";
  }

  const registered = registeredAt(m, unit(draw(key, F_REGISTERED)));
  let consent: ConsentBehaviour = "registered-after";
  let acceptsAfterDays: number | null = null;
  let optsOutAfterDays: number | null = null;
  if (registered < m.policyChangeMs) {
    const window = spec.consentTiming.optOutWindowDays;
    const bits = draw(key, F_CONSENT);
    const t = c.consent;
    consent = bits < t[0] ? "unticks" : bits < t[1] ? "opts-out-later" : bits < t[2] ? "never-accepts" : "accepts";
    if (consent !== "never-accepts") {
      const wait = -Math.log(1 - unit(draw(key, F_ACCEPT_DAY))) * spec.consentTiming.meanDaysToAccept;
      acceptsAfterDays = Math.min(window - 1, Math.floor(wait));
      if (consent === "unticks") optsOutAfterDays = acceptsAfterDays;
      else if (consent === "opts-out-later") {
        optsOutAfterDays = acceptsAfterDays + 1 + Math.floor(unit(draw(key, F_OPT_OUT_DAY)) * (window - 1));
      }
    }
  }

  return {
    id: i,
    shard: Math.floor(i / m.shardSize),
    country: c.spec.code,
    phone: c.phones.numberAt(local),
    os,
    osVersion: m.osVersion[os].pick(draw(key, F_OS_VERSION)),
    appVersion: m.appVersion[os].pick(draw(key, F_APP_VERSION)),
    deviceModel: m.model[os].pick(draw(key, F_MODEL)),
    registeredAt: registered,
    activity: m.activity.values[activityIndex]!,
    messagesPerDay,
    facebookProfileId: hasFacebook ? i : null,
    facebookPhone,
    consent,
    acceptsAfterDays,
    optsOutAfterDays,
    business: unit(draw(key, F_BUSINESS)) < spec.business,
  };
}

/** User i without its name, in O(1): the fast path for bulk generation. */
export function userCoreAt(spec: PopulationSpec, i: number): UserCore {
  checkUserId(spec, i);
  const m = modelOf(spec);
  const { country, local } = placementOf(m, i);
  return core(m, i, keyOf(m.key, i), country, local);
}

/**
 * User i of the population, in O(1) and without touching any other user: every
 * field is a pure function of (spec, i), identical in every process and sample.
 */
export function userAt(spec: PopulationSpec, i: number): User {
  checkUserId(spec, i);
  const m = modelOf(spec);
  const { country, local } = placementOf(m, i);
  const key = keyOf(m.key, i);
  const user = core(m, i, key, country, local) as User;
  user.name = nameFrom(country.names, draw(key, F_NAME));
  return user;
}

/** The name of user i (the same as userAt(spec, i).name). */
export function nameOf(spec: PopulationSpec, i: number): string {
  checkUserId(spec, i);
  const m = modelOf(spec);
  const { country } = placementOf(m, i);
  return nameFrom(country.names, draw(keyOf(m.key, i), F_NAME));
}

/** The stale number a Facebook profile may hold for user i (never anyone's current number). */
export function stalePhoneOf(m: Model, c: CountryModel, local: number): string {
  return c.phones.numberAt(c.count + c.fbOnlyCount + local);
}

