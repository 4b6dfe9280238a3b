import { z } from "zod";

/** An ISO 3166-1 alpha-2 country code, upper case (e.g. `DE`, `GB`, `IN`). */
export type CountryCode = string;

/** Validates an ISO 3166-1 alpha-2 code (shape only: two upper-case letters). */
export const countryCodeSchema = z
  .string()
  .regex(/^[A-Z]{2}$/, "an ISO 3166-1 alpha-2 country code in upper case, e.g. DE");

/**
 * The 28 EU member states in 2016 (the UK was still a member), as ISO 3166-1 alpha-2.
 * Greece is `GR` in ISO (the EU's own abbreviation is `EL`).
 * Source: https://european-union.europa.eu/principles-countries-history/country-profiles_en
 */
export const EU_MEMBER_STATES_2016: readonly CountryCode[] = [
  "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
  "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "GB",
];
