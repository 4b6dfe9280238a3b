/**
 * Global figures the workload model starts from, each with its source or marked
 * `// assumption:`. Plain data with no imports: the k6 scripts import this file
 * too (k6 resolves relative `.ts` files literally), so keep it dependency-free.
 */

export interface Cited<T> {
  value: T;
  /** Where the number comes from, or "assumption: why". */
  source: string;
}

const DAY_SECONDS = 86_400;

/** WhatsApp monthly users, February 2016. */
export const MONTHLY_USERS: Cited<number> = {
  value: 1_000_000_000,
  source: 'WhatsApp blog, "One billion", 2016-02-01 (https://blog.whatsapp.com/one-billion)',
};

/** Messages per day at one billion users (February 2016). */
export const MESSAGES_PER_DAY: Cited<number> = {
  value: 42_000_000_000,
  source:
    "Facebook Q4 2015 / WhatsApp at 1B users, Feb 2016: 42 billion messages, 1.6 billion photos and 250 million videos a day (reported e.g. by TechCrunch, 2016-02-01)",
};

/** Messages sent on New Year's Eve 2016, the record day of that year. */
export const PEAK_DAY_MESSAGES: Cited<number> = {
  value: 63_000_000_000,
  source: "WhatsApp, 2017-01: 63 billion messages on New Year's Eve 2016 (reported e.g. by TechCrunch, 2017-01-06)",
};

/** Photos and videos per day in Feb 2016: their messages are pointers to an uploaded attachment. */
export const MEDIA_PER_DAY: Cited<number> = {
  value: 1_600_000_000 + 250_000_000,
  source: "same Feb 2016 figures: 1.6 billion photos and 250 million videos a day",
};

/**
 * Share of monthly users holding a connection at the daily peak. Derived from
 * WhatsApp's 147 million concurrent connections at peak over 465 million
 * monthly users, both on the slides of Rick Reed's "That's 'Billion' with a 'B'"
 * (Erlang Factory, March 2014): 147 / 465 ≈ 0.32. Assumed unchanged in 2016.
 */
export const CONNECTED_SHARE_AT_PEAK: Cited<number> = {
  value: 147 / 465,
  source: "147M peak connections / 465M monthly users, Rick Reed, Erlang Factory 2014 (assumed unchanged in 2016)",
};

/**
 * Relative message volume per UTC hour of an ordinary day, mean 1. A global
 * service smooths its diurnal cycle across time zones; Asian and European
 * evenings (India, Brazil and Europe dominate the 2016 user base) overlap
 * around 14:00-20:00 UTC.
 */
// assumption: a cosine with its peak at 17:00 UTC and a peak-to-mean ratio of 1.35;
// no hourly global series was published for 2016.
export const DIURNAL_PEAK_HOUR_UTC = 17;
export const DIURNAL_PEAK_TO_MEAN: Cited<number> = {
  value: 1.35,
  source: "assumption: peak-to-mean of the global hourly volume (no published 2016 series)",
};

export function diurnalFactor(hourUtc: number): number {
  const amplitude = DIURNAL_PEAK_TO_MEAN.value - 1;
  return 1 + amplitude * Math.cos(((hourUtc - DIURNAL_PEAK_HOUR_UTC) / 24) * 2 * Math.PI);
}

/** Ciphertext size classes a load script sends; weights sum to 1. */
export interface SizeClass {
  name: string;
  weight: number;
  /** Ciphertext bytes, drawn uniformly in [min, max]. */
  minBytes: number;
  maxBytes: number;
  source: string;
}

const mediaShare = MEDIA_PER_DAY.value / MESSAGES_PER_DAY.value;

export const MESSAGE_SIZE_MIX: SizeClass[] = [
  {
    name: "short text",
    weight: (1 - mediaShare) * 0.7,
    minBytes: 48,
    maxBytes: 160,
    // assumption: most chat messages are a few words; a Signal-protocol whisper
    // message adds ~40 bytes of header and MAC to the padded plaintext.
    source: "assumption: 70% of text messages under ~100 characters, plus Signal framing",
  },
  {
    name: "long text",
    weight: (1 - mediaShare) * 0.3,
    minBytes: 160,
    maxBytes: 1024,
    source: "assumption: 30% of text messages are longer (forwards, paragraphs)",
  },
  {
    name: "media pointer",
    weight: mediaShare,
    minBytes: 256,
    maxBytes: 512,
    // The photo or video itself is uploaded, encrypted, to a media server; the
    // message carries its URL, key and digest.
    source: "Feb 2016 photo+video counts over message count; size: URL + 32-byte key + SHA-256 + thumbnail-less preview (assumption)",
  },
];

export const AVERAGE_MESSAGES_PER_SECOND = MESSAGES_PER_DAY.value / DAY_SECONDS;
export const PEAK_MESSAGES_PER_SECOND = PEAK_DAY_MESSAGES.value / DAY_SECONDS;

/** Business messages as a share of all messages, for business-broadcast. */
export const BUSINESS_SHARE_OF_MESSAGES: Cited<number> = {
  value: 0.02,
  // assumption: in 2016 WhatsApp only announced tests of business messaging (the
  // terms of 2016-08-25 mention it); 2% stands for an early, small channel.
  source: "assumption: business messaging was only being tested in 2016",
};

/** Active advertisers on Facebook, September 2016 (Custom Audiences run on their lists). */
export const ACTIVE_ADVERTISERS: Cited<number> = {
  value: 4_000_000,
  source: 'Facebook newsroom, "4 Million Advertisers", 2016-09-27 (https://www.facebook.com/business/news/4-million-advertisers)',
};

/** Share of active advertisers that upload a customer list on a given day. */
export const ADVERTISERS_UPLOADING_PER_DAY: Cited<number> = {
  value: 0.05,
  // assumption: Facebook published no upload counts; most advertisers use interest
  // targeting, and the ones with CRM lists refresh them weekly or so.
  source: "assumption: 5% of active advertisers upload a customer list on a given day",
};

/** Rows in one uploaded customer list. */
export const ROWS_PER_LIST: Cited<number> = {
  value: 30_000,
  // assumption: small and mid-sized businesses' CRM exports; the API takes 10,000 rows per call.
  source: "assumption: a customer list of 30,000 hashed numbers (3 calls of 10,000)",
};

/** Customer lists uploaded per second, worldwide, at 1e9 users. */
export const LISTS_PER_SECOND = (ACTIVE_ADVERTISERS.value * ADVERTISERS_UPLOADING_PER_DAY.value) / DAY_SECONDS;

/**
 * Connections a user opens per day: each app session (or network change) starts a
 * new WebSocket that authenticates, subscribes and reads its backlog. It sets the
 * reconnect churn a node carries besides holding connections.
 */
export const CONNECTIONS_PER_USER_PER_DAY: Cited<number> = {
  value: 23,
  // assumption: one connection per app session; "23 sessions a day" is the figure
  // commonly quoted for WhatsApp users around 2016, no primary source was published.
  source: "assumption: one connection per app session, ~23 sessions per user per day (commonly quoted 2016 figure, no primary source)",
};
