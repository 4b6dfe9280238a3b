/**
 * Account ids that carry their shard, so any node finds an account's database
 * from the id alone (no directory lookup on the hot path).
 *
 * Layout (RFC 9562 version 8, "custom"): `SSSSSSRR-RRRR-8RRR-bRRR-RRRRRRRRRRRR`:
 * the shard in the first 24 bits, the variant nibble fixed to `b`, 94 random bits.
 * `tooling/seed`'s ids are also version 8 but always use variant nibble `8`, and
 * `gen_random_uuid()` ids are version 4, so neither is mistaken for one of these.
 */
import { randomBytes } from "node:crypto";

const SHARD_TAGGED = /^([0-9a-f]{6})[0-9a-f]{2}-[0-9a-f]{4}-8[0-9a-f]{3}-b[0-9a-f]{3}-[0-9a-f]{12}$/i;

/** A new account id carrying `shard` (0 ≤ shard < 2^24). */
export function mintAccountId(shard: number): string {
  if (!Number.isInteger(shard) || shard < 0 || shard >= 2 ** 24) throw new RangeError(`shard out of range: ${shard}`);
  const r = randomBytes(16).toString("hex");
  const s = shard.toString(16).padStart(6, "0");
  return `${s}${r.slice(0, 2)}-${r.slice(2, 6)}-8${r.slice(6, 9)}-b${r.slice(9, 12)}-${r.slice(12, 24)}`;
}

/** The shard an id carries, or null for an id minted elsewhere (seeded, or from before shard maps). */
export function shardOfAccountId(accountId: string): number | null {
  const match = SHARD_TAGGED.exec(accountId);
  return match ? Number.parseInt(match[1]!, 16) : null;
}
