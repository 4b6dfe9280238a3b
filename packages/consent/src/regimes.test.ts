import { describe, expect, it } from "vitest";
import {
  acceptTerms,
  EU_MEMBER_STATES_2016,
  HISTORICAL_2016,
  mayShare,
  newAccount,
  PURPOSES,
  regimeFor,
  regimeInputSchema,
  regimeSwitchesBetween,
  REGULATORY_EVENTS_2016,
  regimeSpecSchema,
  resolveRegime,
  type ConsentState,
} from "./index";

const at = new Date("2016-12-01T00:00:00Z");
function sharing(country: string, shareWithFacebook = true): ConsentState {
  const result = acceptTerms(newAccount({ registeredAt: new Date("2015-01-01T00:00:00Z"), country }), {
    version: "2016-08-25",
    shareWithFacebook,
    at: new Date("2016-09-01T00:00:00Z"),
  });
  if (!result.ok) throw new Error(result.refusal.message);
  return result.state;
}
const allowed = (state: ConsentState, regime: Parameters<typeof mayShare>[3]) =>
  PURPOSES.filter((purpose) => mayShare(state, purpose, at, regime));

describe("regimes", () => {
  it("historical-2016 puts DE under the ban, the other 2016 EU members and the UK under the pause, the rest under optout", () => {
    expect(regimeFor("historical-2016", "DE", at)).toBe("de-ban-2016");
    expect(regimeFor("historical-2016", "GB", at)).toBe("eu-pause-2016");
    expect(regimeFor("historical-2016", "FR", at)).toBe("eu-pause-2016");
    expect(regimeFor("historical-2016", "IN", at)).toBe("optout-2016");
    expect(regimeFor("historical-2016", "CH", at)).toBe("optout-2016");
    expect(EU_MEMBER_STATES_2016).toHaveLength(28);
    expect(resolveRegime("historical-2016")).toBe(HISTORICAL_2016);
  });

  it("a plain regime applies everywhere; a spec overrides its base by country", () => {
    expect(regimeFor("none", "US", at)).toBe("none");
    const spec = { base: "optin" as const, byCountry: { US: "optout-2016" as const } };
    expect(regimeFor(spec, "US", at)).toBe("optout-2016");
    expect(regimeFor(spec, "BR", at)).toBe("optin");
    expect(regimeFor({ base: "none", byCountry: {} }, "constructor", at)).toBe("none");
  });

  it("each regime allows the purposes it describes for a sharing account", () => {
    const state = sharing("IN");
    expect(allowed(state, "optout-2016")).toEqual([...PURPOSES]);
    expect(allowed(state, "eu-pause-2016")).toEqual(["metrics", "security", "spam", "infrastructure"]);
    expect(allowed(state, "de-ban-2016")).toEqual([]);
    expect(allowed(state, "none")).toEqual([]);
    expect(allowed(state, "optin")).toEqual(["metrics", "security", "spam", "infrastructure"]);
  });

  it("historical-2016 keeps spam fighting for UK users but no ads, and nothing for German users", () => {
    expect(allowed(sharing("GB"), "historical-2016")).toEqual(["metrics", "security", "spam", "infrastructure"]);
    expect(allowed(sharing("DE"), "historical-2016")).toEqual([]);
    expect(allowed(sharing("US"), "historical-2016")).toEqual([...PURPOSES]);
    expect(allowed(sharing("US", false), "historical-2016")).toEqual(["metrics", "security", "spam", "infrastructure"]);
  });

  it("historical-2016 switches on the regulators' dates (REGULATORY_EVENTS_2016), not from day one", () => {
    const t = (iso: string) => new Date(iso);
    // Nothing anywhere before the 2016-08-25 announcement, optout-2016 everywhere from it.
    for (const country of ["DE", "GB", "FR", "US"]) {
      expect(regimeFor("historical-2016", country, t("2016-08-24T23:59:59.999Z"))).toBe("none");
      expect(regimeFor("historical-2016", country, t("2016-08-25T00:00:00Z"))).toBe("optout-2016");
    }
    // Hamburg, 2016-09-27.
    expect(regimeFor("historical-2016", "DE", t("2016-09-26T23:59:59.999Z"))).toBe("optout-2016");
    expect(regimeFor("historical-2016", "DE", t("2016-09-27T00:00:00Z"))).toBe("de-ban-2016");
    expect(regimeFor("historical-2016", "FR", t("2016-09-27T00:00:00Z"))).toBe("optout-2016");
    // ICO, 2016-11-07.
    expect(regimeFor("historical-2016", "GB", t("2016-11-06T23:59:59.999Z"))).toBe("optout-2016");
    expect(regimeFor("historical-2016", "GB", t("2016-11-07T00:00:00Z"))).toBe("eu-pause-2016");
    expect(regimeFor("historical-2016", "FR", t("2016-11-07T00:00:00Z"))).toBe("optout-2016");
    // The EU-wide pause, mid-November; Germany stays under the stricter ban.
    expect(regimeFor("historical-2016", "FR", t("2016-11-15T23:59:59.999Z"))).toBe("optout-2016");
    expect(regimeFor("historical-2016", "FR", t("2016-11-16T00:00:00Z"))).toBe("eu-pause-2016");
    expect(regimeFor("historical-2016", "DE", t("2016-11-16T00:00:00Z"))).toBe("de-ban-2016");
    expect(regimeFor("historical-2016", "US", t("2017-06-01T00:00:00Z"))).toBe("optout-2016");
    // The preset's dates are the events' dates.
    for (const e of REGULATORY_EVENTS_2016) expect(HISTORICAL_2016.dated?.some((d) => d.from.getTime() === e.at.getTime())).toBe(true);
  });

  it("a German account that accepted shares everything until 2016-09-27 and nothing from then on", () => {
    const state = sharing("DE");
    const allowedAt = (iso: string) => PURPOSES.filter((purpose) => mayShare(state, purpose, new Date(iso), "historical-2016"));
    expect(allowedAt("2016-09-26T12:00:00Z")).toEqual([...PURPOSES]);
    expect(allowedAt("2016-09-27T00:00:00Z")).toEqual([]);
    const gb = sharing("GB");
    expect(PURPOSES.filter((p) => mayShare(gb, p, new Date("2016-11-06T12:00:00Z"), "historical-2016"))).toEqual([...PURPOSES]);
    expect(PURPOSES.filter((p) => mayShare(gb, p, new Date("2016-11-07T12:00:00Z"), "historical-2016"))).toEqual([
      "metrics",
      "security",
      "spam",
      "infrastructure",
    ]);
  });

  it("lists the switches a clock move crosses", () => {
    const crossed = regimeSwitchesBetween("historical-2016", new Date("2016-09-01T00:00:00Z"), new Date("2016-11-07T00:00:00Z"));
    expect(crossed.map((c) => [c.at.toISOString().slice(0, 10), c.countries])).toEqual([
      ["2016-09-27", ["DE"]],
      ["2016-11-07", ["GB"]],
    ]);
    expect(regimeSwitchesBetween("optout-2016", new Date(0), new Date("2020-01-01T00:00:00Z"))).toEqual([]);
  });

  it("validates regime names and specs from outside", () => {
    expect(regimeInputSchema.parse("historical-2016")).toBe("historical-2016");
    expect(regimeInputSchema.parse("optin")).toBe("optin");
    expect(regimeInputSchema.safeParse("opt-out").success).toBe(false);
    expect(regimeSpecSchema.safeParse({ base: "optout-2016", byCountry: { de: "de-ban-2016" } }).success).toBe(false);
    expect(regimeSpecSchema.parse({ base: "optout-2016", byCountry: { DE: "de-ban-2016" } })).toEqual({
      base: "optout-2016",
      byCountry: { DE: "de-ban-2016" },
    });
    const dated = regimeSpecSchema.parse({ base: "none", dated: [{ from: "2016-08-25T00:00:00Z", regime: "optout-2016" }] });
    expect(regimeFor(dated, "US", new Date("2016-08-26T00:00:00Z"))).toBe("optout-2016");
    expect(regimeSpecSchema.safeParse({ base: "none", dated: [{ from: "not a date", regime: "optout-2016" }] }).success).toBe(false);
  });
});
