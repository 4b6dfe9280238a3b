/**
 * What an advertiser's answer from the Facebook side must never carry: a phone number
 * (a run of 8+ digits outside a UUID: E.164 numbers have 8-15 digits with the country
 * code, and sizes are printed with separators), a 64-hex hash, or a profile (an id
 * under an unexpected key, or the word). Pure, so vitest checks it too.
 */
import type { TrpcResult } from "./trpc-http.ts";

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const HASH = /[0-9a-f]{64}/i;
/** E.164 numbers have 8-15 digits with the country code; sizes are printed with separators. */
const DIGIT_RUN = /\d{8,}/;
const PROFILE = /profile/i;
/** Keys an advertiser's answers may have (apps/facebook src/audiences/view.ts and the router). */
const ALLOWED_KEYS = new Set(["audienceId", "name", "uploadedRows", "createdAt", "size", "tooSmall", "lower", "upper", "label", "receivedRows", "audiences"]);

function unexpectedKeys(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) unexpectedKeys(v, out);
  else if (typeof value === "object" && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      if (!ALLOWED_KEYS.has(key)) out.push(key);
      unexpectedKeys(v, out);
    }
  }
  return out;
}

/** What leaked in this answer ([] when nothing did). Error answers are checked as text only. */
export function leaksIn(result: TrpcResult<unknown>): string[] {
  const found: string[] = [];
  const text = (result.body ?? "").replace(UUID, "<uuid>");
  if (HASH.test(text)) found.push("a 64-hex hash");
  if (DIGIT_RUN.test(text)) found.push("a phone-like digit run");
  if (PROFILE.test(text)) found.push("a profile");
  if (result.ok) {
    const keys = unexpectedKeys(result.data);
    if (keys.length > 0) found.push(`unexpected keys ${keys.join(",")}`);
  }
  return found;
}

