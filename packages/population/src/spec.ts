import { type CountrySpec, DEFAULT_COUNTRIES } from "./countries";

/** A value with a relative weight. */
export type Weighted<T> = readonly [value: T, weight: number];

export type Os = "android" | "ios" | "other";
export type ActivityClass = "dormant" | "light" | "regular" | "heavy" | "power";

/** Distributions of one operating system's devices. */
export interface OsSpec {
  /** Share of users on this OS. */
  weight: number;
  versions: ReadonlyArray<Weighted<string>>;
  appVersions: ReadonlyArray<Weighted<string>>;
  models: ReadonlyArray<Weighted<string>>;
}

/** An activity class: its share and a log-normal messages/day with this mean. */
export interface ActivitySpec {
  name: ActivityClass;
  weight: number;
  meanMessagesPerDay: number;
  /** Standard deviation of ln(messages/day) within the class. */
  sigma: number;
}

/** The contact graph's parameters (see contacts.ts for the construction). */
export interface ContactsSpec {
  /** Target mean degree (contacts per user). */
  meanDegree: number;
  /** Power-law exponent alpha of the degree distribution, P(d) ~ d^-alpha. */
  exponent: number;
  /** Largest degree class. */
  maxDegree: number;
  /** Share of each user's contact slots that go abroad (the rest stay in the country). */
  internationalShare: number;
}

/**
 * Everything that defines a population, as plain data. Two equal specs give the same
 * people everywhere. Treat a spec as immutable: compiled tables are cached per object.
 */
export interface PopulationSpec {
  seed: number;
  /** N: number of WhatsApp users, ids 0..N-1. */
  size: number;
  /** S: number of equal shards; must divide N. */
  shardCount: number;
  /** Day the new terms were announced (UTC, YYYY-MM-DD). */
  policyChange: string;
  countries: readonly CountrySpec[];
  os: Readonly<Record<Os, OsSpec>>;
  /** Piecewise-linear CDF of registration dates: [YYYY-MM-DD, cumulative share], increasing. */
  registration: ReadonlyArray<readonly [date: string, cumulative: number]>;
  activity: readonly ActivitySpec[];
  facebook: {
    /** P(a WhatsApp user has a Facebook profile). */
    hasProfile: number;
    /** P(that profile holds a phone number). */
    profileHasPhone: number;
    /** P(that number is the user's current one | it holds one); otherwise it is stale. */
    phoneCurrent: number;
    /** Facebook profiles of people not on WhatsApp, per WhatsApp user. */
    facebookOnlyPerUser: number;
    /** P(a Facebook-only profile holds a phone number). */
    facebookOnlyHasPhone: number;
  };
  consentTiming: {
    /** Mean days from the announcement to acceptance (exponential, capped to the window). */
    meanDaysToAccept: number;
    /** Days the opt-out stays open after acceptance. */
    optOutWindowDays: number;
  };
  /** P(the account is a business). */
  business: number;
  contacts: ContactsSpec;
}

// Smartphone OS shares: IDC Worldwide Quarterly Mobile Phone Tracker, Q2 2016
// (press release 2016-08-18): Android 87.6%, iOS 11.7%, Windows Phone 0.4%, others 0.3%.
const OS_SHARE = { android: 0.876, ios: 0.117, other: 0.007 };

/** The default distributions; see the README for each source. */
export const DEFAULT_SPEC: PopulationSpec = {
  seed: 20160825,
  size: 1_000_000_000, // 1B monthly users, WhatsApp blog 2016-02-01
  shardCount: 10_000,
  policyChange: "2016-08-25", // WhatsApp blog "Looking ahead for WhatsApp", 2016-08-25
  countries: DEFAULT_COUNTRIES,
  os: {
    android: {
      weight: OS_SHARE.android,
      // Android Developers "Platform Versions" dashboard, 7 days ending 2016-09-05 (approximate):
      // 2.3 1.3%, 4.0 1.3%, 4.1 4.9%, 4.2 6.8%, 4.3 2.0%, 4.4 25.2%, 5.0 11.3%, 5.1 22.8%, 6.0 18.7%.
      versions: [
        ["2.3.6", 1.3], ["4.0.4", 1.3], ["4.1.2", 4.9], ["4.2.2", 6.8], ["4.3", 2.0], ["4.4.2", 12.6],
        ["4.4.4", 12.6], ["5.0.2", 11.3], ["5.1", 8.0], ["5.1.1", 14.8], ["6.0", 5.0], ["6.0.1", 13.7],
      ],
      // assumption: WhatsApp Messenger for Android 2.16.x builds current in summer 2016
      appVersions: [["2.16.260", 30], ["2.16.230", 25], ["2.16.189", 15], ["2.16.133", 10], ["2.16.95", 8], ["2.12.556", 12]],
      // assumption: best-selling Android models of 2015-2016 across the markets above
      models: [
        ["Samsung Galaxy J7", 9], ["Samsung Galaxy J5", 9], ["Samsung Galaxy J2", 7], ["Samsung Galaxy Grand Prime", 8],
        ["Samsung Galaxy S7", 4], ["Samsung Galaxy S7 edge", 3], ["Samsung Galaxy S6", 4], ["Samsung Galaxy S5", 4],
        ["Xiaomi Redmi Note 3", 6], ["Xiaomi Redmi 3S", 4], ["Motorola Moto G4", 5], ["Motorola Moto G (3rd gen)", 6],
        ["Lenovo A6000", 4], ["Huawei P9 lite", 4], ["Huawei Y6", 3], ["Oppo A37", 3], ["Vivo Y51", 3],
        ["Micromax Canvas Spark", 2], ["LG K10", 4], ["Sony Xperia M4 Aqua", 2], ["Asus Zenfone 2", 2],
      ],
    },
    ios: {
      weight: OS_SHARE.ios,
      // Apple App Store distribution (developer.apple.com/support/app-store), Aug 2016:
      // iOS 9 88%, iOS 8 8%, earlier 4%.
      versions: [["9.3.5", 30], ["9.3.4", 25], ["9.3.2", 18], ["9.2.1", 10], ["9.0.2", 5], ["8.4.1", 8], ["7.1.2", 4]],
      // assumption: WhatsApp for iPhone 2.16.x builds of summer 2016
      appVersions: [["2.16.10", 30], ["2.16.9", 25], ["2.16.8", 20], ["2.16.7", 15], ["2.16.4", 10]],
      // assumption: installed base of iPhone models in mid 2016
      models: [
        ["iPhone 6", 28], ["iPhone 6s", 18], ["iPhone 5s", 15], ["iPhone 6 Plus", 8], ["iPhone 6s Plus", 8],
        ["iPhone SE", 5], ["iPhone 5", 6], ["iPhone 5c", 5], ["iPhone 4s", 7],
      ],
    },
    other: {
      weight: OS_SHARE.other,
      // assumption: the remaining platforms WhatsApp still supported in 2016
      versions: [["Windows Phone 8.1", 45], ["Windows 10 Mobile", 20], ["BlackBerry 10.3", 15], ["Nokia S40", 12], ["Symbian S60", 8]],
      appVersions: [["2.16.200", 50], ["2.16.100", 30], ["2.12.90", 20]],
      models: [["Nokia Lumia 640", 25], ["Nokia Lumia 535", 20], ["Microsoft Lumia 550", 15], ["BlackBerry Q10", 15], ["Nokia Asha 501", 15], ["Nokia E72", 10]],
    },
  },
  // Shape from WhatsApp's monthly-user milestones used as a proxy for sign-ups:
  // 250M (Koum, 2013-06), 500M (blog, 2014-04-22), 700M (Koum, 2015-01-06),
  // 900M (Koum, 2015-09-04), 1B (blog, 2016-02-01).
  // assumption: 5% of the population registers after the change, by the end of 2016
  // (WhatsApp reached 1.2B monthly users in Jan 2017, Koum, 2017-02-24).
  registration: [
    ["2009-05-01", 0],
    ["2013-06-01", 0.24],
    ["2014-04-22", 0.46],
    ["2015-01-06", 0.63],
    ["2015-09-04", 0.8],
    ["2016-02-01", 0.89],
    ["2016-08-25", 0.95],
    ["2016-12-31", 1],
  ],
  // assumption: class shares and means calibrated so the overall mean is ~42 messages
  // a day, matching 42B messages/day for 1B users (WhatsApp, 2016-02-02).
  activity: [
    { name: "dormant", weight: 0.1, meanMessagesPerDay: 0.5, sigma: 0.8 },
    { name: "light", weight: 0.3, meanMessagesPerDay: 8, sigma: 0.7 },
    { name: "regular", weight: 0.35, meanMessagesPerDay: 30, sigma: 0.6 },
    { name: "heavy", weight: 0.2, meanMessagesPerDay: 85, sigma: 0.6 },
    { name: "power", weight: 0.05, meanMessagesPerDay: 240, sigma: 0.9 },
  ],
  facebook: {
    hasProfile: 0.7, // assumption
    profileHasPhone: 0.65, // assumption
    phoneCurrent: 0.85, // assumption
    // Facebook had 1.71B monthly users (Facebook Q2 2016 results, 2016-07-27);
    // 1.71B - 0.7 x 1B linked = 1.01B people on Facebook but not on WhatsApp.
    facebookOnlyPerUser: 1.01,
    facebookOnlyHasPhone: 0.6, // assumption
  },
  consentTiming: {
    meanDaysToAccept: 4, // assumption: the prompt shows at the next app open
    optOutWindowDays: 30, // WhatsApp FAQ, Aug 2016: "an additional 30 days to make this choice"
  },
  business: 0.005, // assumption: businesses were only being tested on WhatsApp in 2016
  // assumption: no published contact-graph figures for WhatsApp; a power law with
  // exponent 2.3 capped at 5,000 (phone address books rarely hold more).
  contacts: { meanDegree: 40, exponent: 2.3, maxDegree: 5000, internationalShare: 0.08 },
};

/** Options accepted by {@link createSpec}: any top-level field of the spec. */
export type SpecOverrides = Partial<PopulationSpec>;

/**
 * A validated, frozen spec: the defaults with `overrides` applied (shallow, per
 * top-level field). Throws a RangeError naming the offending field.
 */
export function createSpec(overrides: SpecOverrides = {}): PopulationSpec {
  const spec: PopulationSpec = { ...DEFAULT_SPEC, ...overrides };
  validateSpec(spec);
  return Object.freeze(spec);
}

/** Throws a RangeError when the spec cannot describe a population. */
export function validateSpec(spec: PopulationSpec): void {
  const fail = (msg: string): never => {
    throw new RangeError(`invalid population spec: ${msg}`);
  };
  if (!Number.isSafeInteger(spec.seed) || spec.seed < 0) fail(`seed must be a non-negative integer, got ${spec.seed}`);
  if (!Number.isSafeInteger(spec.size) || spec.size < 1 || spec.size > 2 ** 32) fail(`size must be an integer in [1, 2^32], got ${spec.size}`);
  if (!Number.isSafeInteger(spec.shardCount) || spec.shardCount < 1) fail(`shardCount must be a positive integer, got ${spec.shardCount}`);
  if (spec.size % spec.shardCount !== 0) fail(`shardCount ${spec.shardCount} must divide size ${spec.size} (shards are equal)`);
  if (Number.isNaN(Date.parse(`${spec.policyChange}T00:00:00Z`))) fail(`policyChange must be YYYY-MM-DD, got ${spec.policyChange}`);
  if (spec.countries.length === 0) fail("countries is empty");
  for (const c of spec.countries) if (!(c.weight > 0)) fail(`country ${c.code} weight must be > 0`);
  const probs: Array<[string, number]> = [
    ["facebook.hasProfile", spec.facebook.hasProfile],
    ["facebook.profileHasPhone", spec.facebook.profileHasPhone],
    ["facebook.phoneCurrent", spec.facebook.phoneCurrent],
    ["facebook.facebookOnlyHasPhone", spec.facebook.facebookOnlyHasPhone],
    ["business", spec.business],
    ["contacts.internationalShare", spec.contacts.internationalShare],
  ];
  for (const [name, p] of probs) if (!(p >= 0 && p <= 1)) fail(`${name} must be a probability, got ${p}`);
  if (!(spec.facebook.facebookOnlyPerUser >= 0)) fail("facebook.facebookOnlyPerUser must be >= 0");
  if (!(spec.contacts.meanDegree >= 1)) fail(`contacts.meanDegree must be >= 1, got ${spec.contacts.meanDegree}`);
  if (!(spec.contacts.maxDegree >= spec.contacts.meanDegree)) fail("contacts.maxDegree must be >= contacts.meanDegree");
  if (!(spec.contacts.exponent > 1)) fail("contacts.exponent must be > 1");
  const reg = spec.registration;
  if (reg.length < 2 || reg[0]![1] !== 0 || reg[reg.length - 1]![1] !== 1) fail("registration must run from share 0 to share 1");
  for (let k = 1; k < reg.length; k++) {
    if (!(reg[k]![1] >= reg[k - 1]![1]) || !(Date.parse(reg[k]![0]) > Date.parse(reg[k - 1]![0]))) fail("registration must increase");
  }
}
