import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { audienceRowForPhone, hashNormalisedPhone, normalisePhoneNumber, UnusablePhoneNumber } from "./normalise";

describe("normalisePhoneNumber", () => {
  it.each([
    ["+91 98765 43210", undefined, "919876543210"],
    ["+91-98765-43210", undefined, "919876543210"],
    ["(+91) 98765 43210", undefined, "919876543210"],
    ["0091 98765 43210", undefined, "919876543210"],
    ["098765 43210", "IN", "919876543210"],
    ["98765 43210", "IN", "919876543210"],
    ["(030) 1234-5678", "DE", "493012345678"],
    ["+49 (0)30 12345678", undefined, "493012345678"],
    ["0049 30 12345678", "US", "493012345678"],
    ["(415) 555-2671", "US", "14155552671"],
    ["1-415-555-2671", "US", "14155552671"],
    ["  +55 11 91234-5678 ", undefined, "5511912345678"],
    ["011 91234 5678", "BR", "5511912345678"],
  ] as const)("%s (default %s) -> %s", (raw, country, digits) => {
    expect(normalisePhoneNumber(raw, country)).toBe(digits);
  });

  it("refuses what is not a valid number, and national numbers without a country", () => {
    for (const raw of ["", "hello", "12", "+91 12345", "98765 43210"]) {
      expect(() => normalisePhoneNumber(raw)).toThrow(UnusablePhoneNumber);
    }
  });

  it("hashes the E.164 digits without '+' (the form Facebook matches on)", () => {
    expect(audienceRowForPhone("+91 98765-43210")).toBe(createHash("sha256").update("919876543210").digest("hex"));
    expect(hashNormalisedPhone("919876543210")).toMatch(/^[0-9a-f]{64}$/);
  });

  // Indian mobiles: +91 then 10 digits starting 6-9 (all valid in libphonenumber's metadata).
  const indianMobile = fc
    .tuple(fc.constantFrom("6", "7", "8", "9"), fc.array(fc.constantFrom(..."0123456789"), { minLength: 9, maxLength: 9 }))
    .map(([first, rest]) => `${first}${rest.join("")}`);
  const separator = fc.constantFrom("", " ", "-", ".", "  ");

  it("property: any spacing, dashes, parentheses, '+', '00' or trunk '0' give the same digits and hash", () => {
    fc.assert(
      fc.property(indianMobile, separator, fc.constantFrom("+91", "0091", "0", "", "(+91)", "+91 (0)"), (national, sep, prefix) => {
        const spaced = `${national.slice(0, 5)}${sep}${national.slice(5)}`;
        const digits = normalisePhoneNumber(`${prefix}${sep}${spaced}`, "IN");
        expect(digits).toBe(`91${national}`);
        expect(audienceRowForPhone(`${prefix} ${spaced}`, "IN")).toBe(hashNormalisedPhone(`91${national}`));
      }),
    );
  });

  it("property: normalising is idempotent (digits with a '+' normalise to themselves)", () => {
    fc.assert(
      fc.property(indianMobile, (national) => {
        const digits = normalisePhoneNumber(`0${national}`, "IN");
        expect(normalisePhoneNumber(`+${digits}`)).toBe(digits);
      }),
    );
  });
});
