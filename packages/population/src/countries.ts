/**
 * The countries of the population, their weight and their consent behaviour.
 *
 * Weights are millions of WhatsApp monthly users out of the 1 billion announced on
 * 2016-02-01 (WhatsApp blog, "One billion", https://blog.whatsapp.com/one-billion).
 * The seven named markets carry their published (or, where WhatsApp published
 * nothing, assumed) 2016 size; the other thirteen countries each also stand in for
 * their region so that the weights add up to the whole billion.
 */

/** Probabilities of each consent behaviour for users registered before the change. */
export interface ConsentProbabilities {
  /** Unticks the pre-ticked "Share my WhatsApp account information with Facebook" box when accepting. */
  untick: number;
  /** Accepts with the box ticked, then opts out in Settings > Account within the 30 days. */
  optOutLater: number;
  /** Never accepts the new terms (stops using WhatsApp). */
  neverAccept: number;
}

/** One country of the population. */
export interface CountrySpec {
  /** ISO 3166-1 alpha-2. */
  code: string;
  /** Relative weight (millions of users at N = 1e9). */
  weight: number;
  /** Faker locale used for names. */
  locale: string;
  /** Where the weight comes from, or "assumption: ...". */
  source: string;
  consent: ConsentProbabilities;
}

// assumption: no per-country opt-out figures were ever published. Outside Europe
// few users changed the default; in the EU the press coverage was heavier and in
// Germany the Hamburg DPA order (2016-09-27) made it front-page news.
const CONSENT_DEFAULT: ConsentProbabilities = { untick: 0.03, optOutLater: 0.02, neverAccept: 0.01 };
const CONSENT_EU: ConsentProbabilities = { untick: 0.08, optOutLater: 0.04, neverAccept: 0.015 };
const CONSENT_DE: ConsentProbabilities = { untick: 0.12, optOutLater: 0.05, neverAccept: 0.02 };

/** Default countries, largest first (the order is part of the spec: it fixes id blocks). */
export const DEFAULT_COUNTRIES: readonly CountrySpec[] = [
  {
    code: "IN", weight: 160, locale: "en_IN", consent: CONSENT_DEFAULT,
    source: "160M monthly users in India, WhatsApp at its Nov 2016 Delhi video-calling launch (TechCrunch, 2016-11-15)",
  },
  {
    code: "BR", weight: 100, locale: "pt_BR", consent: CONSENT_DEFAULT,
    source: "'more than 100 million' users in Brazil, WhatsApp statement during the May 2016 court block (Reuters, 2016-05-02)",
  },
  { code: "MX", weight: 60, locale: "es_MX", consent: CONSENT_DEFAULT, source: "assumption: ~60M, WhatsApp the most used app among ~65M Mexican internet users (AMIPCI 2016 study)" },
  { code: "ID", weight: 40, locale: "id_ID", consent: CONSENT_DEFAULT, source: "assumption: ~40M, no WhatsApp figure published for 2016" },
  { code: "RU", weight: 40, locale: "ru", consent: CONSENT_DEFAULT, source: "assumption: ~40M, no WhatsApp figure published for 2016" },
  {
    code: "DE", weight: 35, locale: "de", consent: CONSENT_DE,
    source: "about 35M users in Germany, Hamburg Commissioner for Data Protection, press release 2016-09-27",
  },
  { code: "US", weight: 25, locale: "en_US", consent: CONSENT_DEFAULT, source: "assumption: ~25M, third-party 2016 estimates ranged 20-30M" },
  // The rest of the world: each country also stands for its region (assumption).
  { code: "PK", weight: 90, locale: "ur", consent: CONSENT_DEFAULT, source: "assumption: stands for South Asia outside India" },
  { code: "CO", weight: 70, locale: "es", consent: CONSENT_DEFAULT, source: "assumption: stands for the Andes and Central America" },
  { code: "NG", weight: 55, locale: "en_NG", consent: CONSENT_DEFAULT, source: "assumption: stands for West Africa" },
  { code: "GB", weight: 45, locale: "en_GB", consent: CONSENT_EU, source: "assumption: stands for the UK, Ireland and the Nordics" },
  { code: "ES", weight: 40, locale: "es", consent: CONSENT_EU, source: "assumption: Spain and Portugal" },
  { code: "IT", weight: 40, locale: "it", consent: CONSENT_EU, source: "assumption: Italy and the Balkans" },
  { code: "EG", weight: 40, locale: "ar", consent: CONSENT_DEFAULT, source: "assumption: stands for North Africa and the Levant" },
  { code: "TR", weight: 35, locale: "tr", consent: CONSENT_DEFAULT, source: "assumption: Turkey and the Caucasus" },
  { code: "ZA", weight: 30, locale: "en_ZA", consent: CONSENT_DEFAULT, source: "assumption: stands for southern and east Africa" },
  { code: "AR", weight: 30, locale: "es", consent: CONSENT_DEFAULT, source: "assumption: stands for the Southern Cone" },
  { code: "FR", weight: 25, locale: "fr", consent: CONSENT_EU, source: "assumption: France and Belgium" },
  { code: "SA", weight: 25, locale: "ar", consent: CONSENT_DEFAULT, source: "assumption: stands for the Gulf states" },
  { code: "NL", weight: 15, locale: "nl", consent: CONSENT_EU, source: "assumption: the Netherlands and Switzerland" },
];
