/** Phone numbers: validated and normalised to E.164 with libphonenumber-js. */
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";

export interface NormalisedPhone {
  e164: string;
  /** ISO 3166-1 alpha-2 of the number's region. */
  country: string;
}

export type PhoneProblem = "unparseable" | "invalid" | "no-region";

/**
 * Accepts international format ("+49 30 1234567") or a national number with a
 * default country. Uses the full metadata ("max") so that numbers are checked
 * against real number ranges, not only lengths.
 */
export function normalisePhone(
  input: string,
  defaultCountry?: string,
): { ok: true; phone: NormalisedPhone } | { ok: false; problem: PhoneProblem } {
  const parsed = parsePhoneNumberFromString(input, defaultCountry as CountryCode | undefined);
  if (!parsed) return { ok: false, problem: "unparseable" };
  if (!parsed.isValid()) return { ok: false, problem: "invalid" };
  if (!parsed.country) return { ok: false, problem: "no-region" };
  return { ok: true, phone: { e164: parsed.number, country: parsed.country } };
}
