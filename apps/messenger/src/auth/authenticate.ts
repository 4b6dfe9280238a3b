/**
 * Turns a presented credential into a device identity. Verified devices are
 * cached (lru-cache: least recently used evicted past 100k, never all at once) by
 * device address, holding the stored hash of the device's secret, so an HTTP
 * client sending many messages does not cost a query each.
 *
 * Staleness bound: `revoke(device)` drops the entry at once on this node (the
 * registration that replaces a device calls it); on other nodes an old credential
 * is accepted for at most `CREDENTIAL_CACHE_TTL_MS` after it was replaced.
 */
import { LRUCache } from "lru-cache";
import type postgres from "postgres";
import type { DeviceAddress } from "../relay/bus";
import { findCredentialHash } from "../storage/accounts";
import { parseCredential, secretMatches } from "./credentials";

export type AuthResult =
  | { ok: true; device: DeviceAddress }
  | { ok: false; reason: "missing" | "malformed" | "unknown-device" | "wrong-secret" };

/** How long another node may still accept a replaced credential. */
export const CREDENTIAL_CACHE_TTL_MS = 30_000;
const CACHE_MAX = 100_000;

const keyOf = (device: DeviceAddress) => `${device.accountId}.${device.deviceId}`;

export class Authenticator {
  private readonly cache: LRUCache<string, Buffer>;
  /** Bumped by every `revoke`: a read that began before one does not fill the cache. */
  private revocations = 0;
  /** The database of an account's devices (its shard's; `sql` without a shard map). */
  private readonly sqlFor: (accountId: string) => postgres.Sql;

  constructor(
    sql: postgres.Sql,
    options: { ttlMs?: number; max?: number; now?: () => number; sqlFor?: (accountId: string) => postgres.Sql } = {},
  ) {
    this.sqlFor = options.sqlFor ?? (() => sql);
    this.cache = new LRUCache<string, Buffer>({
      max: options.max ?? CACHE_MAX,
      ttl: options.ttlMs ?? CREDENTIAL_CACHE_TTL_MS,
      // Refreshing the TTL on reads would let a busy client keep a revoked credential alive.
      updateAgeOnGet: false,
      ttlResolution: 0,
      ...(options.now ? { perf: { now: options.now } } : {}),
    });
    // An expired entry is never served, yet lru-cache keeps it until it is read or
    // evicted: a connected device authenticates once, so every idle connection held
    // its ~0.7 KB entry for good. One scan per TTL drops them (no timer per entry).
    setInterval(() => this.cache.purgeStale(), options.ttlMs ?? CREDENTIAL_CACHE_TTL_MS).unref();
  }

  async authenticate(credential: string | null | undefined): Promise<AuthResult> {
    if (!credential) return { ok: false, reason: "missing" };
    const parsed = parseCredential(credential);
    if (!parsed) return { ok: false, reason: "malformed" };
    const device = { accountId: parsed.accountId, deviceId: parsed.deviceId };
    const cached = this.cache.get(keyOf(device));
    if (cached && secretMatches(parsed.secret, cached)) return { ok: true, device };
    // A miss, or a secret that does not match what is cached (it may have been replaced
    // through another node): the database decides, and its answer replaces the entry.

    const revocations = this.revocations;
    const stored = await findCredentialHash(this.sqlFor(parsed.accountId), parsed);
    if (!stored) return { ok: false, reason: "unknown-device" };
    // A revoke while the read ran may have replaced what it read: answer this call (it
    // began first), but do not cache a hash that could be the revoked one.
    if (revocations === this.revocations) this.cache.set(keyOf(device), stored);
    if (!secretMatches(parsed.secret, stored)) return { ok: false, reason: "wrong-secret" };
    return { ok: true, device };
  }

  /** Forgets a device's credential at once (it was replaced or removed), including a read of it in flight. */
  revoke(device: DeviceAddress): void {
    this.revocations += 1;
    this.cache.delete(keyOf(device));
  }

  /** Entries held (for tests and metrics). */
  get size(): number {
    return this.cache.size;
  }
}

export const authFailureMessages: Record<Exclude<AuthResult, { ok: true }>["reason"], string> = {
  missing: "no device credential: send `Authorization: Bearer <credential>` (HTTP) or connectionParams.token (WebSocket)",
  malformed: "the device credential is malformed (expected <accountId>.<deviceId>.<secret>)",
  "unknown-device": "the device credential is not recognised",
  "wrong-secret": "the device credential is not recognised",
};
