import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { accountArb, regimeArb, runScript, scriptArb, timelineArb } from "../test/arbitraries";
import {
  acceptTerms,
  FIELD_CATALOGUE,
  mayShare,
  newAccount,
  PURPOSES,
  SHAREABLE_FIELDS,
  shareableFields,
  type ConsentState,
} from "./index";

const at = new Date("2016-10-01T00:00:00Z");
function accepted(country: string, shareWithFacebook: boolean): ConsentState {
  const result = acceptTerms(newAccount({ registeredAt: new Date("2015-01-01T00:00:00Z"), country }), {
    version: "2016-08-25",
    shareWithFacebook,
    at: new Date("2016-09-01T00:00:00Z"),
  });
  if (!result.ok) throw new Error(result.refusal.message);
  return result.state;
}

describe("field catalogue", () => {
  it("lists exactly the account data that may be shared, never content, contacts or envelope metadata", () => {
    expect([...SHAREABLE_FIELDS].sort()).toEqual(
      ["activeDaysCount", "appVersion", "country", "deviceModel", "lastSeen", "messagesSentCount", "os", "osVersion", "phoneNumber", "registeredAt"].sort(),
    );
    for (const field of SHAREABLE_FIELDS) {
      expect(field).not.toMatch(/content|body|text|contact|recipient|sender|envelope|ciphertext/i);
      expect(FIELD_CATALOGUE[field].length).toBeGreaterThan(0);
    }
  });

  it("an opted-out account shares no field for ads or product, but still for metrics, security and spam", () => {
    const fields = shareableFields(accepted("IN", false), at, "optout-2016");
    expect(fields.phoneNumber).toEqual(["metrics", "security", "spam"]);
    expect(fields.activeDaysCount).toEqual(["metrics"]);
    expect(fields.deviceModel).toEqual(["metrics", "infrastructure"]);
    expect(Object.values(fields).flat()).not.toContain("ads");
  });

  it("a sharing account shares each field for all its catalogued purposes under optout-2016", () => {
    const fields = shareableFields(accepted("IN", true), at, "optout-2016");
    expect(fields.phoneNumber).toEqual(["ads", "product", "metrics", "security", "spam"]);
    expect(Object.keys(fields).sort()).toEqual([...SHAREABLE_FIELDS].sort());
  });

  it("omits every field when nothing may be shared", () => {
    expect(shareableFields(accepted("DE", true), at, "historical-2016")).toEqual({});
    expect(shareableFields(newAccount({ registeredAt: new Date("2015-01-01T00:00:00Z"), country: "IN" }), at, "optout-2016")).toEqual({});
  });

  it("agrees with mayShare and the catalogue for any account, time and regime", () => {
    fc.assert(
      fc.property(accountArb, scriptArb, regimeArb, timelineArb, (account, script, regime, timeline) => {
        for (const step of runScript(account, script, regime, timeline)) {
          const fields = shareableFields(step.after, step.at, regime);
          for (const field of SHAREABLE_FIELDS) {
            const expected = PURPOSES.filter(
              (p) => (FIELD_CATALOGUE[field] as readonly string[]).includes(p) && mayShare(step.after, p, step.at, regime),
            );
            expect(fields[field]).toEqual(expected.length > 0 ? expected : undefined);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
