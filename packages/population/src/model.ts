import { type ActivityClass, type Os, type PopulationSpec, validateSpec } from "./spec";
import { type CountrySpec } from "./countries";
import { keyFor } from "./hash";
import { Permutation } from "./permutation";
import { PhonePlan } from "./phones";
import { type NameTable, nameTable } from "./names";
import { Picker, apportion } from "./sampling";
import { type DegreeClasses, degreeClasses } from "./degrees";

const DAY_MS = 86_400_000;

/** Per-country tables compiled from the spec. */
export interface CountryModel {
  index: number;
  spec: CountrySpec;
  /** First position of the country's block in the permuted user space. */
  start: number;
  /** WhatsApp users in the country (n_c). */
  count: number;
  /** First position of the country's block in the permuted Facebook-only space. */
  fbOnlyStart: number;
  /** Facebook-only people in the country (f_c). */
  fbOnlyCount: number;
  /** Phone indices: [0, n_c) users, [n_c, n_c + f_c) Facebook-only, then stale numbers. */
  phones: PhonePlan;
  names: NameTable;
  /** Cumulative u32 thresholds: untick, + opt out later, + never accept. */
  consent: [number, number, number];
  /** classBounds[k]..classBounds[k+1]: in-country indices of degree class k. */
  classBounds: Float64Array;
  /** Domestic stub offsets per class (length K + 1); total = domStubs. */
  domStart: Float64Array;
  domStubs: number;
  /** Involution carrier over the domestic stubs (size rounded up to even), or null. */
  domPerm: Permutation | null;
  /** Global international stub offsets per class (length K + 1). */
  intlStart: Float64Array;
}

/** A spec compiled into lookup tables; cached per spec object. */
export interface Model {
  spec: PopulationSpec;
  key: number;
  fbKey: number;
  users: Permutation;
  countries: CountryModel[];
  /** Exclusive end of each country's block in the permuted user space. */
  countryEnds: Float64Array;
  shardSize: number;
  fbOnly: { total: number; shardSize: number; perm: Permutation | null; ends: Float64Array };
  os: Picker<Os>;
  osVersion: Record<Os, Picker<string>>;
  appVersion: Record<Os, Picker<string>>;
  model: Record<Os, Picker<string>>;
  activity: Picker<ActivityClass>;
  /** Per activity class: mu and sigma of ln(messages/day). */
  activityLog: Array<[mu: number, sigma: number]>;
  registration: { ms: Float64Array; cum: Float64Array };
  policyChangeMs: number;
  degrees: DegreeClasses;
  intlStubs: number;
  intlPerm: Permutation | null;
}

const models = new WeakMap<PopulationSpec, Model>();
const TWO_32 = 4294967296;

/** The compiled model of a spec (validated and built on first use). */
export function modelOf(spec: PopulationSpec): Model {
  const hit = models.get(spec);
  if (hit) return hit;
  const model = compile(spec);
  models.set(spec, model);
  return model;
}

function evenUp(n: number): number {
  return n % 2 === 0 ? n : n + 1;
}

function compile(spec: PopulationSpec): Model {
  validateSpec(spec);
  const N = spec.size;
  const S = spec.shardCount;
  const weights = spec.countries.map((c) => c.weight);
  const counts = apportion(N, weights);
  const fbOnlyShardSize = Math.round((N * spec.facebook.facebookOnlyPerUser) / S);
  const fbTotal = fbOnlyShardSize * S;
  const fbCounts = fbTotal > 0 ? apportion(fbTotal, weights) : weights.map(() => 0);
  const degrees = degreeClasses(spec.contacts);
  const K = degrees.weights.length;

  const countries: CountryModel[] = [];
  const countryEnds = new Float64Array(spec.countries.length);
  const fbEnds = new Float64Array(spec.countries.length);
  let start = 0;
  let fbStart = 0;
  let intlBase = 0;
  for (let c = 0; c < spec.countries.length; c++) {
    const cs = spec.countries[c]!;
    const n = counts[c]!;
    const f = fbCounts[c]!;
    const phones = new PhonePlan(cs.code, keyFor(spec.seed, `phones:${cs.code}`));
    if (phones.capacity < 2 * n + f) {
      throw new RangeError(
        `country ${cs.code}: its mobile plan holds ${phones.capacity} numbers but the spec needs ${2 * n + f} ` +
          `(users, stale numbers, Facebook-only people); lower the size or its weight`,
      );
    }
    const p = cs.consent;
    const classCounts = apportion(n, degrees.weights);
    const classBounds = new Float64Array(K + 1);
    const domStart = new Float64Array(K + 1);
    const intlStart = new Float64Array(K + 1);
    intlStart[0] = intlBase;
    for (let k = 0; k < K; k++) {
      classBounds[k + 1] = classBounds[k]! + classCounts[k]!;
      domStart[k + 1] = domStart[k]! + classCounts[k]! * degrees.domestic[k]!;
      intlStart[k + 1] = intlStart[k]! + classCounts[k]! * degrees.international[k]!;
    }
    intlBase = intlStart[K]!;
    const domStubs = domStart[K]!;
    countries.push({
      index: c,
      spec: cs,
      start,
      count: n,
      fbOnlyStart: fbStart,
      fbOnlyCount: f,
      phones,
      names: nameTable(cs.locale, spec.seed),
      consent: [p.untick * TWO_32, (p.untick + p.optOutLater) * TWO_32, (p.untick + p.optOutLater + p.neverAccept) * TWO_32],
      classBounds,
      domStart,
      domStubs,
      domPerm: domStubs > 0 ? new Permutation(evenUp(domStubs), keyFor(spec.seed, `contacts:${cs.code}`)) : null,
      intlStart,
    });
    start += n;
    fbStart += f;
    countryEnds[c] = start;
    fbEnds[c] = fbStart;
  }

  const osNames: Os[] = ["android", "ios", "other"];
  const perOs = (f: (os: Os) => Picker<string>): Record<Os, Picker<string>> =>
    ({ android: f("android"), ios: f("ios"), other: f("other") });
  const reg = spec.registration;
  return {
    spec,
    key: keyFor(spec.seed, "users"),
    fbKey: keyFor(spec.seed, "facebook-only"),
    users: new Permutation(N, keyFor(spec.seed, "user-order")),
    countries,
    countryEnds,
    shardSize: N / S,
    fbOnly: {
      total: fbTotal,
      shardSize: fbOnlyShardSize,
      perm: fbTotal > 0 ? new Permutation(fbTotal, keyFor(spec.seed, "facebook-order")) : null,
      ends: fbEnds,
    },
    os: new Picker(osNames.map((o) => [o, spec.os[o].weight] as const)),
    osVersion: perOs((o) => new Picker(spec.os[o].versions)),
    appVersion: perOs((o) => new Picker(spec.os[o].appVersions)),
    model: perOs((o) => new Picker(spec.os[o].models)),
    activity: new Picker(spec.activity.map((a) => [a.name, a.weight] as const)),
    // ln X ~ N(mu, sigma^2) has mean exp(mu + sigma^2 / 2)
    activityLog: spec.activity.map((a) => [Math.log(a.meanMessagesPerDay) - (a.sigma * a.sigma) / 2, a.sigma]),
    registration: {
      ms: Float64Array.from(reg, ([d]) => Date.parse(`${d}T00:00:00Z`)),
      cum: Float64Array.from(reg, ([, c]) => c),
    },
    policyChangeMs: Date.parse(`${spec.policyChange}T00:00:00Z`),
    degrees,
    intlStubs: intlBase,
    intlPerm: intlBase > 0 ? new Permutation(evenUp(intlBase), keyFor(spec.seed, "contacts:international")) : null,
  };
}

/** The country whose block holds position p of a cumulative `ends` table. */
export function countryIndexAt(ends: Float64Array, p: number): number {
  let c = 0;
  while (p >= ends[c]!) c++;
  return c;
}

export { DAY_MS };
