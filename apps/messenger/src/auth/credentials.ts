/**
 * Device credentials: `<accountId>.<deviceId>.<secret>`, where the secret is 32
 * random bytes (base64url). It is shown once at registration; the server keeps
 * only SHA-256(secret). With 256 bits of entropy a fast hash is enough: there is
 * nothing to brute-force, unlike a human password.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export interface DeviceIdentity {
  accountId: string;
  deviceId: number;
}

export interface IssuedCredential {
  credential: string;
  hash: Buffer;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function issueCredential(identity: DeviceIdentity): IssuedCredential {
  const secret = randomBytes(32).toString("base64url");
  return {
    credential: `${identity.accountId}.${identity.deviceId}.${secret}`,
    hash: hashSecret(secret),
  };
}

export function hashSecret(secret: string): Buffer {
  return createHash("sha256").update(secret).digest();
}

export interface ParsedCredential extends DeviceIdentity {
  secret: string;
}

/** Splits a credential; null when it is not of the expected shape. */
export function parseCredential(credential: string): ParsedCredential | null {
  if (credential.length > 200) return null;
  const [accountId, device, secret, ...rest] = credential.split(".");
  if (rest.length > 0 || !accountId || !device || !secret) return null;
  if (!UUID.test(accountId)) return null;
  const deviceId = Number(device);
  if (!Number.isInteger(deviceId) || deviceId < 1 || deviceId > 127) return null;
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  return { accountId, deviceId, secret };
}

export function secretMatches(secret: string, storedHash: Buffer): boolean {
  const candidate = hashSecret(secret);
  return candidate.length === storedHash.length && timingSafeEqual(candidate, storedHash);
}
