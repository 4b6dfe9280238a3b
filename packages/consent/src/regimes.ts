import { z } from "zod";
import { countryCodeSchema, EU_MEMBER_STATES_2016, type CountryCode } from "./countries";
import { ANNOUNCED_2016, REGULATORY_EVENTS_2016 } from "./policy";

/**
 * A rule set deciding which purposes the shared data may serve.
 *
 * - `optout-2016`: what happened. Accepting the 2016 terms shares data for every purpose;
 *   a "don't share" choice removes `ads` and `product` only.
 * - `optin`: what the FTC's 2014 letter to Facebook and WhatsApp asked for ("affirmative
 *   consent" before using data differently). `ads` and `product` need an explicit yes on an
 *   unticked box; a pre-ticked box left alone is not one. Other purposes as `optout-2016`.
 *   Source: FTC letter to Erin Egan and Anne Hoge, 2014-04-10.
 * - `eu-pause-2016`: the UK/EU pause of November 2016: no `ads` or `product` at all; spam
 *   fighting, security, metrics and infrastructure continue.
 * - `de-ban-2016`: the Hamburg DPA order of September 2016: nothing is shared.
 * - `none`: no sharing with Facebook (the 2014 acquisition promise).
 */
export const REGIMES = ["optout-2016", "optin", "eu-pause-2016", "de-ban-2016", "none"] as const;

export type Regime = (typeof REGIMES)[number];

/** Validates a regime name from outside. */
export const regimeSchema = z.enum(REGIMES);

/**
 * From `from` on, `regime` applies in `countries` (every country when omitted).
 * A regulator's date, as data: the rules take `at` and never read a clock.
 */
export interface DatedRegime {
  readonly from: Date;
  readonly regime: Regime;
  readonly countries?: readonly CountryCode[];
}

/**
 * Regimes composed by country and date: `byCountry` overrides `base` for the listed
 * ISO 3166-1 alpha-2 countries; then each entry of `dated` whose `from` has come
 * (in order, the later wins) overrides both for its countries.
 */
export interface RegimeSpec {
  readonly base: Regime;
  readonly byCountry?: Readonly<Partial<Record<CountryCode, Regime>>>;
  readonly dated?: readonly DatedRegime[];
}

/** Validates a regime spec from outside (e.g. an experiment's configuration; dates may be ISO strings). */
export const regimeSpecSchema = z.object({
  base: regimeSchema,
  byCountry: z.record(countryCodeSchema, regimeSchema).optional(),
  dated: z
    .array(z.object({ from: z.coerce.date(), regime: regimeSchema, countries: z.array(countryCodeSchema).optional() }))
    .optional(),
});

function event(scope: "DE" | "GB" | "EU"): Date {
  const found = REGULATORY_EVENTS_2016.find((e) => e.scope === scope);
  if (!found) throw new Error(`no regulatory event for ${scope}`);
  return found.at;
}

/**
 * `historical-2016`, switched on the dates things happened (sources in policy.ts
 * REGULATORY_EVENTS_2016):
 * - `none` everywhere before 2016-08-25 (ANNOUNCED_2016, "Looking ahead for WhatsApp");
 *   `optout-2016` everywhere from then on;
 * - Germany `de-ban-2016` from 2016-09-27 (HmbBfDI press release of the order of 2016-09-23);
 * - the UK `eu-pause-2016` from 2016-11-07 (ICO blog, Elizabeth Denham);
 * - the other EU members of 2016 `eu-pause-2016` from 2016-11-16 (mid-November: an
 *   assumption, see the event). Germany stays under the stricter ban.
 */
export const HISTORICAL_2016: RegimeSpec = {
  base: "none",
  dated: [
    { from: ANNOUNCED_2016, regime: "optout-2016" },
    { from: event("DE"), regime: "de-ban-2016", countries: ["DE"] },
    { from: event("GB"), regime: "eu-pause-2016", countries: ["GB"] },
    { from: event("EU"), regime: "eu-pause-2016", countries: EU_MEMBER_STATES_2016.filter((c) => c !== "DE" && c !== "GB") },
  ],
};

/** Named regime specs, for configuration by name. */
export const REGIME_PRESETS = { "historical-2016": HISTORICAL_2016 } as const satisfies Record<string, RegimeSpec>;

export type RegimePresetName = keyof typeof REGIME_PRESETS;

/** A regime by name: a plain regime (applied everywhere) or a preset. */
export const regimeNameSchema = z.union([regimeSchema, z.enum(["historical-2016"])]);

export type RegimeName = z.infer<typeof regimeNameSchema>;

/** What the rule functions accept: a regime name (applied everywhere), a preset name, or a spec. */
export type RegimeInput = RegimeName | RegimeSpec;

/** Validates a regime name, preset name or spec from outside. */
export const regimeInputSchema = z.union([regimeNameSchema, regimeSpecSchema]);

/** Turns a regime name, preset name or spec into a spec. */
export function resolveRegime(input: RegimeInput): RegimeSpec {
  if (typeof input !== "string") return input;
  if (input === "historical-2016") return REGIME_PRESETS[input];
  return { base: input };
}

/**
 * The regime that applies at `at` to an account in `country` (ISO 3166-1 alpha-2, upper
 * case). `at` is required: under a dated spec such as `historical-2016` the answer
 * changes on the regulators' dates.
 */
export function regimeFor(regime: RegimeInput, country: CountryCode, at: Date): Regime {
  const spec = resolveRegime(regime);
  const override = spec.byCountry && Object.hasOwn(spec.byCountry, country) ? spec.byCountry[country] : undefined;
  let found = override ?? spec.base;
  const t = at.getTime();
  for (const step of spec.dated ?? []) {
    if (step.from.getTime() <= t && (step.countries === undefined || step.countries.includes(country))) found = step.regime;
  }
  return found;
}

/**
 * The instants in (`after`, `until`] at which `regime` changes for some country, with the
 * countries concerned (undefined: every country). A clock move across one of them calls
 * for fresh snapshots, e.g. the Hamburg order's deletion of what was forwarded.
 */
export function regimeSwitchesBetween(
  regime: RegimeInput,
  after: Date,
  until: Date,
): { at: Date; countries: readonly CountryCode[] | undefined }[] {
  const spec = resolveRegime(regime);
  return (spec.dated ?? [])
    .filter((step) => step.from.getTime() > after.getTime() && step.from.getTime() <= until.getTime())
    .map((step) => ({ at: step.from, countries: step.countries }));
}
