/**
 * Deterministic identities for seeded users: the account id and the device
 * credential of population user i are pure functions of (seed, size, i), so the
 * same sample always yields the same rows and the same fixture credentials, in any
 * process. Anyone who knows the seed can derive every credential: seed only
 * simulation databases, never one holding real accounts.
 */
import { createHash, createHmac } from "node:crypto";
import { DEFAULT_SHARD_COUNT, shardOfPhone, taggedAccountId } from "@handshake/db/messenger-shards";
import { type PopulationSpec, userCoreAt } from "@handshake/population";

/** Ids and credential derivation for one population (seed and size). */
export interface SampleIdentity {
  /** The account uuid of population user i (RFC 9562 version 8, carrying the messenger shard of its phone). */
  accountId(i: number): string;
  /** The same, for a caller that has user i's phone at hand (the seeder: no second look-up). */
  accountIdOf(i: number, phone: string): string;
  /** The messenger's shard count the ids' shards are taken modulo. */
  shardCount: number;
  /** The device secret of user i's device 1: 32 bytes, base64url (43 characters). */
  secret(i: number): string;
  /** `<accountId>.1.<secret>`, what a client sends as `Authorization: Bearer …`. */
  credential(i: number): string;
}

/** Ids need i < 2^40 (10 hex digits); the population is at most ~1e12 users. */
const MAX_INDEX = 2 ** 40;

/** SHA-256 of the secret's text, exactly what apps/messenger/src/auth/credentials.ts stores. */
export function credentialHash(secret: string): Buffer {
  return createHash("sha256").update(secret).digest();
}

/**
 * The identity scheme of a population. Account ids carry the messenger's shard of the
 * user's phone number (`shardOfPhone`, what registration would choose), in the layout
 * the messenger mints (`taggedAccountId`: `SSSSSSII-IIII-8III-bITT-TTTTTTTTTTTT`), with
 * the population index in the 40 bits after the shard and a 56-bit tail keyed by
 * (seed, size). So the messenger routes a seeded account to the database of its shard
 * exactly as a registered one, and `tooling/seed` writes it there. `shardCount` is the
 * messenger's (its shard map's, else `SHARD_COUNT`, default 10,000), not the
 * population's. The ids are not secret (the credential is).
 */
export function sampleIdentity(
  spec: PopulationSpec,
  options: { shardCount?: number } = {},
): SampleIdentity {
  const shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT;
  const key = createHash("sha256").update(`handshake-seed/v2/${spec.seed}/${spec.size}`).digest();
  const tail = createHmac("sha256", key).update("account-namespace").digest("hex").slice(0, 14);
  const secretKey = createHmac("sha256", key).update("device-credential").digest();

  const accountIdOf = (i: number, phone: string): string => {
    if (!Number.isSafeInteger(i) || i < 0 || i >= MAX_INDEX) throw new RangeError(`population index out of range: ${i}`);
    return taggedAccountId(shardOfPhone(phone, shardCount), i.toString(16).padStart(10, "0") + tail);
  };
  const accountId = (i: number): string => accountIdOf(i, userCoreAt(spec, i).phone);
  const secret = (i: number): string => createHmac("sha256", secretKey).update(String(i)).digest("base64url");
  return {
    accountId,
    accountIdOf,
    secret,
    credential: (i) => `${accountId(i)}.1.${secret(i)}`,
    shardCount,
  };
}
