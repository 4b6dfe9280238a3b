/**
 * Finds blocks of mobile numbers (a national prefix followed by free digits) that
 * libphonenumber-js (max metadata) accepts as valid MOBILE numbers for every
 * completion. Output is pasted into src/phone-blocks.ts, trimmed to the capacity the spec needs. Run: `pnpm tsx scripts/find-mobile-blocks.ts`.
 */
import { getCountryCallingCode, parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";

const countries = process.argv.slice(2) as CountryCode[];

/** Enough numbers per country for 3x its WhatsApp users at N = 1e9 (users, stale, Facebook-only). */
const TARGET = 2e9;

let state = 0x1234567;
function rnd(): number {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state / 2 ** 32;
}

function digits(n: number): string {
  let s = "";
  for (let k = 0; k < n; k++) s += Math.floor(rnd() * 10);
  return s;
}

function mobile(cc: string, national: string, country: CountryCode): boolean {
  const e164 = `+${cc}${national}`;
  const p = parsePhoneNumberFromString(e164);
  // p.number differs when the digits start with a trunk prefix (0, or 8 in Russia)
  if (!p || p.number !== e164 || !p.isValid() || p.country !== country) return false;
  const t = p.getType();
  return t === "MOBILE" || t === "FIXED_LINE_OR_MOBILE";
}

for (const country of countries) {
  const cc = getCountryCallingCode(country);
  const found: Array<[string, number]> = [];
  let capacity = 0;
  for (const len of [11, 10, 9, 8, 7]) {
    for (const plen of [1, 2, 3, 4]) {
      if (capacity >= TARGET) break;
      for (let v = 0; v < 10 ** plen; v++) {
        const prefix = String(v).padStart(plen, "0");
        // A leading 0 is a trunk prefix in most plans, never part of an E.164 number.
        if (prefix.startsWith("0")) continue;
        if (found.some(([p]) => prefix.startsWith(p))) continue;
        const free = len - plen;
        if (free < 4) continue;
        let ok = true;
        for (let k = 0; k < 60 && ok; k++) ok = mobile(cc, prefix + digits(free), country);
        if (!ok) continue;
        for (let k = 0; k < 1000 && ok; k++) ok = mobile(cc, prefix + digits(free), country);
        // the extremes of the block too
        ok = ok && mobile(cc, prefix + "0".repeat(free), country) && mobile(cc, prefix + "9".repeat(free), country);
        if (ok) {
          found.push([prefix, free]);
          capacity += 10 ** free;
          if (capacity >= TARGET) break;
        }
      }
    }
  }
  found.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const top = found;
  const cap = top.reduce((s, [, f]) => s + 10 ** f, 0);
  console.log(`  ${country}: { callingCode: "${cc}", blocks: ${JSON.stringify(top)} }, // capacity ${cap.toExponential(2)}`);
}
