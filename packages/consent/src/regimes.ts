import { z } from "zod";
import { countryCodeSchema, EU_MEMBER_STATES_2016, type CountryCode } from "./countries";

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
 * Regimes composed by country: `byCountry` overrides `base` for the listed ISO 3166-1
 * alpha-2 countries. Static: the spec does not change with time (switching specs at a
 * regulator's date is the caller's business).
 */
export interface RegimeSpec {
  readonly base: Regime;
  readonly byCountry?: Readonly<Partial<Record<CountryCode, Regime>>>;
}

/** Validates a regime spec from outside (e.g. an experiment's configuration). */
export const regimeSpecSchema = z.object({
  base: regimeSchema,
  byCountry: z.record(countryCodeSchema, regimeSchema).optional(),
});

/**
 * `historical-2016`: `optout-2016` everywhere, `eu-pause-2016` for the EU members of 2016
 * (the UK included), `de-ban-2016` for Germany. Sources in policy.ts REGULATORY_EVENTS_2016.
 */
export const HISTORICAL_2016: RegimeSpec = {
  base: "optout-2016",
  byCountry: Object.fromEntries(
    EU_MEMBER_STATES_2016.map((country) => [country, country === "DE" ? "de-ban-2016" : "eu-pause-2016"]),
  ),
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

/** The regime that applies to an account in `country` (ISO 3166-1 alpha-2, upper case). */
export function regimeFor(regime: RegimeInput, country: CountryCode): Regime {
  const spec = resolveRegime(regime);
  const override = spec.byCountry && Object.hasOwn(spec.byCountry, country) ? spec.byCountry[country] : undefined;
  return override ?? spec.base;
}
