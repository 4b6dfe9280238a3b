/**
 * Turns a presented credential into a device identity. Verified credentials are
 * cached briefly (by the SHA-256 of the whole credential, never the credential
 * itself) so an HTTP client sending many messages does not cost a query each.
 */
import { createHash } from "node:crypto";
import type postgres from "postgres";
import type { DeviceAddress } from "../relay/bus";
import { findCredentialHash } from "../storage/accounts";
import { parseCredential, secretMatches } from "./credentials";

export type AuthResult =
  | { ok: true; device: DeviceAddress }
  | { ok: false; reason: "missing" | "malformed" | "unknown-device" | "wrong-secret" };

const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 100_000;

export class Authenticator {
  private readonly cache = new Map<string, { device: DeviceAddress; expiresAt: number }>();

  constructor(private readonly sql: postgres.Sql) {}

  async authenticate(credential: string | null | undefined): Promise<AuthResult> {
    if (!credential) return { ok: false, reason: "missing" };
    const parsed = parseCredential(credential);
    if (!parsed) return { ok: false, reason: "malformed" };
    const cacheKey = createHash("sha256").update(credential).digest("base64");
    const cached = this.cache.get(cacheKey);
    if (cached && cached.expiresAt > Date.now()) return { ok: true, device: cached.device };

    const stored = await findCredentialHash(this.sql, parsed);
    if (!stored) return { ok: false, reason: "unknown-device" };
    if (!secretMatches(parsed.secret, stored)) return { ok: false, reason: "wrong-secret" };
    const device = { accountId: parsed.accountId, deviceId: parsed.deviceId };
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(cacheKey, { device, expiresAt: Date.now() + CACHE_TTL_MS });
    return { ok: true, device };
  }
}

export const authFailureMessages: Record<Exclude<AuthResult, { ok: true }>["reason"], string> = {
  missing: "no device credential: send `Authorization: Bearer <credential>` (HTTP) or connectionParams.token (WebSocket)",
  malformed: "the device credential is malformed (expected <accountId>.<deviceId>.<secret>)",
  "unknown-device": "the device credential is not recognised",
  "wrong-secret": "the device credential is not recognised",
};
