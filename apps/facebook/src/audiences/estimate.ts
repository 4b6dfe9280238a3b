/**
 * The size an advertiser is told for a Custom Audience, built to resist
 * membership inference (see ../../README.md, "Custom Audiences").
 *
 * The attack: upload list L, read the size; upload L plus one target's number,
 * read again; a different answer says the target is on Facebook. Researchers did
 * exactly this against Facebook's rounded estimates (Venkatadri et al., "Privacy
 * Risks with Facebook's PII-based Targeting", IEEE S&P 2018). So:
 *  1. noise, deterministic in HMAC(estimateKey, digest of the uploaded list) — the
 *     same list always gets the same answer (re-reading gains nothing), a list that
 *     differs by one row gets independent noise. It is keyed by the *input* list,
 *     never by the matched set: keyed by the matched set, L and L+target would get
 *     identical noise exactly when the target is not a member — an oracle;
 *  2. the noisy count is reported only as a coarse bucket;
 *  3. the "too small" cut-off is applied to the noisy count with a margin, so that
 *     it too moves smoothly rather than flipping at exactly `minimum` members.
 */
import { createHash, createHmac } from "node:crypto";

/** Bucket edges, 1-2-5 per decade from 100 to 1e9 (Facebook showed ranges like "1,000–5,000"). */
export const SIZE_BUCKET_EDGES: readonly number[] = (() => {
  const edges: number[] = [];
  for (let decade = 100; decade <= 1e9; decade *= 10) edges.push(decade, decade * 2, decade * 5);
  return edges.filter((edge) => edge <= 1e9);
})();

/** Noise half-width: at least this many members... */
export const NOISE_FLOOR = 50;
/** ...or this fraction of the count, whichever is larger. */
export const NOISE_FRACTION = 0.1;

export type SizeEstimate = { tooSmall: true } | { tooSmall: false; lower: number; upper: number | null; label: string };

/**
 * Order-independent digest of an audience's distinct uploaded hashes: SHA-256
 * over the raw 32-byte hashes sorted bytewise. Matches `listDigestSql` in
 * storage/audiences.ts.
 */
export function listDigest(hashes: Buffer[]): Buffer {
  const sorted = [...new Map(hashes.map((h) => [h.toString("hex"), h])).values()].sort(Buffer.compare);
  return createHash("sha256").update(Buffer.concat(sorted)).digest();
}

/** A uniform number in [0, 1), fixed by the key and the list. */
function keyedUniform(estimateKey: Buffer, digest: Buffer): number {
  const mac = createHmac("sha256", estimateKey).update("handshake/audience-size-noise/v1\0").update(digest).digest();
  return mac.readUIntBE(0, 6) / 2 ** 48;
}

/** The count plus noise fixed by the list: uniform within ±max(NOISE_FLOOR, NOISE_FRACTION·count). */
export function noisyCount(count: number, estimateKey: Buffer, digest: Buffer): number {
  const halfWidth = Math.max(NOISE_FLOOR, NOISE_FRACTION * count);
  return count + (2 * keyedUniform(estimateKey, digest) - 1) * halfWidth;
}

const grouped = new Intl.NumberFormat("en-US");

/** The bucket holding `value` (no noise applied here), or too small below `minimum`. */
export function bucketOf(value: number, minimum: number): SizeEstimate {
  if (value < minimum) return { tooSmall: true };
  const next = SIZE_BUCKET_EDGES.findIndex((edge) => edge > value);
  const upper = next === -1 ? null : SIZE_BUCKET_EDGES[next]!;
  // Below the first edge only when minimum is under it (tests, small deployments).
  const lower = next === 0 ? minimum : SIZE_BUCKET_EDGES[next === -1 ? SIZE_BUCKET_EDGES.length - 1 : next - 1]!;
  return { tooSmall: false, lower, upper, label: upper === null ? `${grouped.format(lower)}+` : `${grouped.format(lower)}–${grouped.format(upper)}` };
}

/**
 * What the advertiser is told about an audience with `count` matched members
 * whose uploaded list has digest `digest`. Never below `minimum` true members:
 * the noisy count must clear `minimum + NOISE_FLOOR`, so shown-or-not rises
 * gradually between `minimum` and `minimum + 2·NOISE_FLOOR` instead of flipping.
 */
export function estimateAudienceSize(count: number, digest: Buffer, estimateKey: Buffer, minimum: number): SizeEstimate {
  if (count < minimum) return { tooSmall: true };
  const noisy = noisyCount(count, estimateKey, digest);
  if (noisy < minimum + NOISE_FLOOR) return { tooSmall: true };
  return bucketOf(noisy, minimum);
}
