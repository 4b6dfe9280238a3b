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
    expect(regimeFor("historical-2016", "DE")).toBe("de-ban-2016");
    expect(regimeFor("historical-2016", "GB")).toBe("eu-pause-2016");
    expect(regimeFor("historical-2016", "FR")).toBe("eu-pause-2016");
    expect(regimeFor("historical-2016", "IN")).toBe("optout-2016");
    expect(regimeFor("historical-2016", "CH")).toBe("optout-2016");
    expect(EU_MEMBER_STATES_2016).toHaveLength(28);
    expect(resolveRegime("historical-2016")).toBe(HISTORICAL_2016);
  });

  it("a plain regime applies everywhere; a spec overrides its base by country", () => {
    expect(regimeFor("none", "US")).toBe("none");
    const spec = { base: "optin" as const, byCountry: { US: "optout-2016" as const } };
    expect(regimeFor(spec, "US")).toBe("optout-2016");
    expect(regimeFor(spec, "BR")).toBe("optin");
    expect(regimeFor({ base: "none", byCountry: {} }, "constructor")).toBe("none");
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

  it("validates regime names and specs from outside", () => {
    expect(regimeInputSchema.parse("historical-2016")).toBe("historical-2016");
    expect(regimeInputSchema.parse("optin")).toBe("optin");
    expect(regimeInputSchema.safeParse("opt-out").success).toBe(false);
    expect(regimeSpecSchema.safeParse({ base: "optout-2016", byCountry: { de: "de-ban-2016" } }).success).toBe(false);
    expect(regimeSpecSchema.parse({ base: "optout-2016", byCountry: { DE: "de-ban-2016" } })).toEqual({
      base: "optout-2016",
      byCountry: { DE: "de-ban-2016" },
    });
  });
});
