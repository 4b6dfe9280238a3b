/** Output pieces the dashboard's views share. */
import { regimeInputSchema, type RegimeInput } from "@handshake/consent";
import { z } from "zod";

/** An instant on the wire: ISO 8601 in UTC. */
export const iso = z.string();

/** The regime in force, as configured (a preset name or a spec). */
export const regimeOutput = z.custom<RegimeInput>((value) => regimeInputSchema.safeParse(value).success);

/** A country filter: ISO 3166-1 alpha-2, upper case. */
export const countrySchema = z.string().regex(/^[A-Z]{2}$/, { message: "a country is two upper-case letters (ISO 3166-1)" });
