/**
 * Deterministic identities for seeded users: the account id and the device
 * credential of population user i are pure functions of (seed, size, i), so the
 * same sample always yields the same rows and the same fixture credentials, in any
 * process. Anyone who knows the seed can derive every credential: seed only
 * simulation databases, never one holding real accounts.
 */
import { createHash, createHmac } from "node:crypto";
import type { PopulationSpec } from "@handshake/population";

/** Ids and credential derivation for one population (seed and size). */
export interface SampleIdentity {
  /** The account uuid of population user i (RFC 9562 version 8, ordered by i). */
  accountId(i: number): string;
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
 * The identity scheme of a population. Account ids are
 * `PPPPPPPP-IIII-8III-8III-TTTTTTTTTTTT`: a 32-bit prefix and a 48-bit tail keyed
 * by (seed, size), and the population index in the 40 bits between. Ordered by i,
 * so COPY appends to the primary-key index instead of splitting random pages; the
 * ids are not secret (the credential is).
 */
export function sampleIdentity(spec: Pick<PopulationSpec, "seed" | "size">): SampleIdentity {
  const key = createHash("sha256").update(`handshake-seed/v1/${spec.seed}/${spec.size}`).digest();
  const ns = createHmac("sha256", key).update("account-namespace").digest("hex");
  const prefix = ns.slice(0, 8);
  const tail = ns.slice(8, 20);
  const secretKey = createHmac("sha256", key).update("device-credential").digest();

  const accountId = (i: number): string => {
    if (!Number.isSafeInteger(i) || i < 0 || i >= MAX_INDEX) throw new RangeError(`population index out of range: ${i}`);
    const h = i.toString(16).padStart(10, "0");
    return `${prefix}-${h.slice(0, 4)}-8${h.slice(4, 7)}-8${h.slice(7, 10)}-${tail}`;
  };
  const secret = (i: number): string => createHmac("sha256", secretKey).update(String(i)).digest("base64url");
  return {
    accountId,
    secret,
    credential: (i) => `${accountId(i)}.1.${secret(i)}`,
  };
}
