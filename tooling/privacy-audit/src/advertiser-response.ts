/**
 * What in one advertiser-facing response (as recorded verbatim in
 * `advertiser_api_log.response`) identifies a person: a phone number, a SHA-256
 * hash, or a Facebook profile id. Pure; the rules are documented in the README.
 *
 * Profile ids are small integers (population indices), so sizes and counts in a
 * response collide with them all the time: a number is taken for a profile id
 * only when it equals a known `profiles.id` AND sits under a key that is not a
 * count or size field (see {@link isCountKey}).
 */

export type IdentifierKind = "phone" | "hash" | "profile-id";

export interface Finding {
  kind: IdentifierKind;
  /** JSON path of the value, e.g. `data.sizeRange.lower` (no value: it may be personal). */
  path: string;
}

export interface KnownIdentifiers {
  /** Every `profiles.id`. */
  profileIds: ReadonlySet<number>;
  /** Digits (country code included, no '+') of every phone number either side knows. */
  phoneDigits: ReadonlySet<string>;
}

/**
 * Last words of keys that hold counts, sizes and bounds. A number under such a
 * key is never taken for a profile id (it still is checked for being a phone).
 */
export const COUNT_KEY_WORDS: ReadonlySet<string> = new Set([
  "count",
  "counts",
  "size",
  "sizes",
  "total",
  "rows",
  "lower",
  "upper",
  "low",
  "high",
  "min",
  "max",
  "minimum",
  "maximum",
  "limit",
  "range",
  "estimate",
  "bound",
  "accepted",
  "rejected",
  "duplicates",
  "received",
  "uploaded",
  "hashes",
  "status",
  "version",
]);

/** `sizeRange` → ["size", "range"]; `uploaded_rows` → ["uploaded", "rows"]. */
function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** True when the key names a count, size or bound (its last word is in {@link COUNT_KEY_WORDS}). */
export function isCountKey(key: string | null): boolean {
  if (key === null) return false;
  const words = keyWords(key);
  return words.length > 0 && COUNT_KEY_WORDS.has(words[words.length - 1]!);
}

function namesProfile(key: string | null): boolean {
  return key !== null && keyWords(key).includes("profile");
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const ISO_TIME = /\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?/g;
const HEX_64 = /[0-9a-f]{64}/i;
/** Long hex runs with at least one letter (hashes, keys): their digits are not phone numbers. */
const HEX_RUN = /[0-9a-f]{16,}/gi;
const E164 = /\+\d(?:[\s\-.()]*\d){6,14}/;
const DIGIT_RUN = /(?<!\d)\d{8,15}(?!\d)/;
const FORMATTED_DIGITS = /\d[\d\s\-.()]{5,}\d/g;
const INTEGER = /^\d+$/;

function stringFindings(text: string, key: string | null, known: KnownIdentifiers): IdentifierKind[] {
  const kinds: IdentifierKind[] = [];
  // Identifiers of rows (audiences, advertisers) and times are not personal: take them out first.
  const stripped = text.replace(UUID, " ").replace(ISO_TIME, " ");
  if (HEX_64.test(stripped)) kinds.push("hash");
  const digitsOnly = stripped.replace(HEX_RUN, (run) => (/[a-f]/i.test(run) ? " " : run));
  if (E164.test(digitsOnly) || DIGIT_RUN.test(digitsOnly)) {
    kinds.push("phone");
  } else {
    for (const run of digitsOnly.match(FORMATTED_DIGITS) ?? []) {
      if (known.phoneDigits.has(run.replace(/\D/g, ""))) {
        kinds.push("phone");
        break;
      }
    }
  }
  const trimmed = text.trim();
  if (INTEGER.test(trimmed) && !isCountKey(key)) {
    if (namesProfile(key) || known.profileIds.has(Number(trimmed))) kinds.push("profile-id");
  }
  return kinds;
}

function numberFindings(value: number, key: string | null, known: KnownIdentifiers): IdentifierKind[] {
  if (!Number.isInteger(value)) return [];
  const kinds: IdentifierKind[] = [];
  if (value > 0 && known.phoneDigits.has(String(value))) kinds.push("phone");
  if (!isCountKey(key) && (namesProfile(key) || known.profileIds.has(value))) kinds.push("profile-id");
  return kinds;
}

/** Every identifier found in a response, with its JSON path. Object keys are scanned as strings too. */
export function scanAdvertiserResponse(response: unknown, known: KnownIdentifiers): Finding[] {
  const findings: Finding[] = [];
  const visit = (value: unknown, key: string | null, path: string) => {
    if (typeof value === "string") {
      for (const kind of stringFindings(value, key, known)) findings.push({ kind, path });
    } else if (typeof value === "number") {
      for (const kind of numberFindings(value, key, known)) findings.push({ kind, path });
    } else if (Array.isArray(value)) {
      // Array items inherit the key of the array: `sizeRange: [1000, 2000]` holds bounds.
      value.forEach((item, i) => visit(item, key, `${path}[${i}]`));
    } else if (value !== null && typeof value === "object") {
      for (const [childKey, child] of Object.entries(value)) {
        const childPath = path ? `${path}.${childKey}` : childKey;
        for (const kind of stringFindings(childKey, null, known)) findings.push({ kind, path: `${childPath} (key)` });
        visit(child, childKey, childPath);
      }
    }
  };
  visit(response, null, "");
  return findings;
}
