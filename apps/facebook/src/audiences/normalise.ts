/**
 * What an advertiser does before uploading a Custom Audience: turn the phone
 * numbers in its CRM (typed by hand, in every national format) into the form
 * Facebook matches on — E.164 digits with the country code, no '+' — and hash
 * that with SHA-256. Facebook's own matching hashes its numbers the same way.
 */
import { createHash } from "node:crypto";
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";

export class UnusablePhoneNumber extends Error {
  constructor(readonly input: string) {
    super("not a valid phone number (give a country code, or a default country for national numbers)");
    this.name = "UnusablePhoneNumber";
  }
}

/**
 * Normalises one messy phone string ("(0)30 1234-5678", "0044 20 7946 0018",
 * "+91 98765 43210", "098765 43210" with default country IN) to E.164 digits
 * without '+'. A leading '00' is the international prefix; a national trunk
 * prefix (the leading 0 in most countries) is removed by the country's rules.
 * Throws {@link UnusablePhoneNumber} for anything that is not a valid number.
 */
export function normalisePhoneNumber(raw: string, defaultCountry?: CountryCode): string {
  let text = raw.trim();
  // libphonenumber only knows '+'; "00" is the ITU international prefix most of the world dials.
  if (/^00[1-9]/.test(text.replace(/[\s().-]/g, ""))) text = `+${text.replace(/[\s().-]/g, "").slice(2)}`;
  const parsed = parsePhoneNumberFromString(text, defaultCountry);
  if (!parsed?.isValid()) throw new UnusablePhoneNumber(raw);
  return parsed.number.slice(1);
}

/** SHA-256 hex of already-normalised E.164 digits (no '+'): what an upload row holds. */
export function hashNormalisedPhone(digits: string): string {
  return createHash("sha256").update(digits, "utf8").digest("hex");
}

/** Normalises a messy phone string and hashes it: one Custom Audience upload row. */
export function audienceRowForPhone(raw: string, defaultCountry?: CountryCode): string {
  return hashNormalisedPhone(normalisePhoneNumber(raw, defaultCountry));
}
