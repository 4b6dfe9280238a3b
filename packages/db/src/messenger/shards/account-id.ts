/**
 * Account ids that carry their shard, so any node finds an account's database
 * from the id alone (no directory lookup on the hot path).
 *
 * Layout (RFC 9562 version 8, "custom"): `SSSSSSRR-RRRR-8RRR-bRRR-RRRRRRRRRRRR`:
 * the shard in the first 24 bits, the variant nibble fixed to `b`, 96 bits of the
 * rest. The messenger mints the rest at random (`mintAccountId`); `tooling/seed`
 * derives it from the population index and the population's seed (`taggedAccountId`),
 * so seeded accounts are routed exactly like registered ones. `gen_random_uuid()` ids
 * (version 4) and seeded ids from before shard tags (variant nibble `8`) carry no
 * shard: they live on the home database.
 */
import { randomBytes } from "node:crypto";

const SHARD_TAGGED = /^([0-9a-f]{6})[0-9a-f]{2}-[0-9a-f]{4}-8[0-9a-f]{3}-b[0-9a-f]{3}-[0-9a-f]{12}$/i;
const REST = /^[0-9a-f]{24}$/;

/** The id carrying `shard` (0 ≤ shard < 2^24) with `rest` (24 lowercase hex digits) in the other positions. */
export function taggedAccountId(shard: number, rest: string): string {
  if (!Number.isInteger(shard) || shard < 0 || shard >= 2 ** 24) throw new RangeError(`shard out of range: ${shard}`);
  if (!REST.test(rest)) throw new RangeError(`rest must be 24 lowercase hex digits, got "${rest}"`);
  const s = shard.toString(16).padStart(6, "0");
  return `${s}${rest.slice(0, 2)}-${rest.slice(2, 6)}-8${rest.slice(6, 9)}-b${rest.slice(9, 12)}-${rest.slice(12, 24)}`;
}

/** A new account id carrying `shard` (0 ≤ shard < 2^24). */
export function mintAccountId(shard: number): string {
  return taggedAccountId(shard, randomBytes(12).toString("hex"));
}

/** The shard an id carries, or null for an id minted elsewhere (v4, or seeded before shard tags). */
export function shardOfAccountId(accountId: string): number | null {
  const match = SHARD_TAGGED.exec(accountId);
  return match ? Number.parseInt(match[1]!, 16) : null;
}
