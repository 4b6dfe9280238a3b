/**
 * In-memory implementations of the libsignal stores a one-to-one session needs
 * (session, identity, one-time EC prekeys, signed prekeys, Kyber prekeys), each
 * persistable as plain JSON: records are kept in their libsignal serialization
 * and written out as base64.
 *
 * libsignal calls every store method through a Promise, but these stores never
 * await anything, so a device's state changes atomically per call.
 */
import {
  type Direction,
  IdentityChange,
  IdentityKeyPair,
  IdentityKeyStore,
  KyberPreKeyRecord,
  KyberPreKeyStore,
  PreKeyRecord,
  PreKeyStore,
  type PrivateKey,
  type ProtocolAddress,
  PublicKey,
  SessionRecord,
  SessionStore,
  SignedPreKeyRecord,
  SignedPreKeyStore,
} from "@signalapp/libsignal-client";
import { z } from "zod";
import { fromBase64, toBase64 } from "./wire";

/** Map key for a remote device: `name.deviceId`, as libsignal prints addresses. */
export function addressKey(address: ProtocolAddress): string {
  return `${address.name()}.${address.deviceId()}`;
}

const b64 = z.string();
const recordMapSchema = z.record(z.string(), b64);

function mapToJSON(map: Map<string | number, Uint8Array>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of map) out[String(key)] = toBase64(value);
  return out;
}

function numericMapFromJSON(json: Record<string, string>): Map<number, Uint8Array<ArrayBuffer>> {
  return new Map(Object.entries(json).map(([key, value]) => [Number(key), fromBase64(value)]));
}

function missing(kind: string, id: number): Error {
  // libsignal turns a rejection from a store into InvalidPreKeyId / InvalidSignedPreKeyId etc.
  return new Error(`${kind} ${id} not found`);
}

// ---------------------------------------------------------------------------

export const sessionStoreJSONSchema = z.object({ sessions: recordMapSchema });
export type SessionStoreJSON = z.infer<typeof sessionStoreJSONSchema>;

/** Sessions keyed by remote address (`accountId.deviceId`). */
export class InMemorySessionStore extends SessionStore {
  readonly #sessions = new Map<string, Uint8Array<ArrayBuffer>>();

  override async saveSession(address: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.#sessions.set(addressKey(address), record.serialize());
  }

  override async getSession(address: ProtocolAddress): Promise<SessionRecord | null> {
    const bytes = this.#sessions.get(addressKey(address));
    return bytes ? SessionRecord.deserialize(bytes) : null;
  }

  override async getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    return addresses.map((address) => {
      const bytes = this.#sessions.get(addressKey(address));
      if (!bytes) throw new Error(`no session for ${addressKey(address)}`);
      return SessionRecord.deserialize(bytes);
    });
  }

  /** Drops the session with a remote device (the next message needs a new bundle). */
  deleteSession(address: ProtocolAddress): boolean {
    return this.#sessions.delete(addressKey(address));
  }

  toJSON(): SessionStoreJSON {
    return { sessions: mapToJSON(this.#sessions) };
  }

  static fromJSON(json: unknown): InMemorySessionStore {
    const parsed = sessionStoreJSONSchema.parse(json);
    const store = new InMemorySessionStore();
    for (const [key, value] of Object.entries(parsed.sessions)) store.#sessions.set(key, fromBase64(value));
    return store;
  }
}

// ---------------------------------------------------------------------------

/**
 * What to do when a remote device shows an identity key different from the one
 * first seen (trust on first use):
 * - `strict`: refuse to send to it or accept from it until `trustIdentity` is called
 *   (Signal's behaviour for verified contacts);
 * - `accept-changes`: take the new key (WhatsApp's 2016 default: security
 *   notifications were off unless the user turned them on).
 */
export const identityPolicySchema = z.enum(["strict", "accept-changes"]);
export type IdentityPolicy = z.infer<typeof identityPolicySchema>;

export const identityStoreJSONSchema = z.object({
  identityKeyPair: b64,
  registrationId: z.number().int().min(1).max(16380),
  policy: identityPolicySchema,
  remoteIdentities: recordMapSchema,
});
export type IdentityStoreJSON = z.infer<typeof identityStoreJSONSchema>;

/** The local identity key pair and registration id, and the identities seen for remote devices. */
export class InMemoryIdentityKeyStore extends IdentityKeyStore {
  readonly #identity: IdentityKeyPair;
  readonly #registrationId: number;
  readonly #remote = new Map<string, PublicKey>();
  policy: IdentityPolicy;

  constructor(identity: IdentityKeyPair, registrationId: number, policy: IdentityPolicy = "strict") {
    super();
    this.#identity = identity;
    this.#registrationId = registrationId;
    this.policy = policy;
  }

  get identityKeyPair(): IdentityKeyPair {
    return this.#identity;
  }

  get registrationId(): number {
    return this.#registrationId;
  }

  override async getIdentityKey(): Promise<PrivateKey> {
    return this.#identity.privateKey;
  }

  // Overridden so libsignal gets the stored public key instead of re-deriving it per call.
  override async getIdentityKeyPair(): Promise<IdentityKeyPair> {
    return this.#identity;
  }

  override async getLocalRegistrationId(): Promise<number> {
    return this.#registrationId;
  }

  override async saveIdentity(address: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
    const known = this.#remote.get(addressKey(address));
    this.#remote.set(addressKey(address), key);
    return known && !known.equals(key) ? IdentityChange.ReplacedExisting : IdentityChange.NewOrUnchanged;
  }

  override async isTrustedIdentity(address: ProtocolAddress, key: PublicKey, _direction: Direction): Promise<boolean> {
    const known = this.#remote.get(addressKey(address));
    return !known || known.equals(key) || this.policy === "accept-changes";
  }

  override async getIdentity(address: ProtocolAddress): Promise<PublicKey | null> {
    return this.#remote.get(addressKey(address)) ?? null;
  }

  /** Records `key` as the trusted identity of `address`, replacing any earlier one. */
  trust(address: ProtocolAddress, key: PublicKey): void {
    this.#remote.set(addressKey(address), key);
  }

  toJSON(): IdentityStoreJSON {
    const remoteIdentities: Record<string, string> = {};
    for (const [key, value] of this.#remote) remoteIdentities[key] = toBase64(value.serialize());
    return {
      identityKeyPair: toBase64(this.#identity.serialize()),
      registrationId: this.#registrationId,
      policy: this.policy,
      remoteIdentities,
    };
  }

  static fromJSON(json: unknown): InMemoryIdentityKeyStore {
    const parsed = identityStoreJSONSchema.parse(json);
    const store = new InMemoryIdentityKeyStore(
      IdentityKeyPair.deserialize(fromBase64(parsed.identityKeyPair)),
      parsed.registrationId,
      parsed.policy,
    );
    for (const [key, value] of Object.entries(parsed.remoteIdentities)) {
      store.#remote.set(key, PublicKey.deserialize(fromBase64(value)));
    }
    return store;
  }
}

// ---------------------------------------------------------------------------

export const preKeyStoreJSONSchema = z.object({ preKeys: recordMapSchema });
export type PreKeyStoreJSON = z.infer<typeof preKeyStoreJSONSchema>;

/** One-time EC prekeys; libsignal removes each one when a session consumes it. */
export class InMemoryPreKeyStore extends PreKeyStore {
  #preKeys = new Map<number, Uint8Array<ArrayBuffer>>();

  override async savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    this.#preKeys.set(id, record.serialize());
  }

  override async getPreKey(id: number): Promise<PreKeyRecord> {
    const bytes = this.#preKeys.get(id);
    if (!bytes) throw missing("one-time prekey", id);
    return PreKeyRecord.deserialize(bytes);
  }

  override async removePreKey(id: number): Promise<void> {
    this.#preKeys.delete(id);
  }

  /** How many one-time EC prekeys are still unused. */
  get size(): number {
    return this.#preKeys.size;
  }

  toJSON(): PreKeyStoreJSON {
    return { preKeys: mapToJSON(this.#preKeys) };
  }

  static fromJSON(json: unknown): InMemoryPreKeyStore {
    const store = new InMemoryPreKeyStore();
    store.#preKeys = numericMapFromJSON(preKeyStoreJSONSchema.parse(json).preKeys);
    return store;
  }
}

// ---------------------------------------------------------------------------

export const signedPreKeyStoreJSONSchema = z.object({ signedPreKeys: recordMapSchema });
export type SignedPreKeyStoreJSON = z.infer<typeof signedPreKeyStoreJSONSchema>;

/**
 * Signed EC prekeys. All are kept, not only the newest: a PreKey message built from
 * an older bundle may sit in the server's queue for up to 30 days.
 */
export class InMemorySignedPreKeyStore extends SignedPreKeyStore {
  #signedPreKeys = new Map<number, Uint8Array<ArrayBuffer>>();

  override async saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    this.#signedPreKeys.set(id, record.serialize());
  }

  override async getSignedPreKey(id: number): Promise<SignedPreKeyRecord> {
    const bytes = this.#signedPreKeys.get(id);
    if (!bytes) throw missing("signed prekey", id);
    return SignedPreKeyRecord.deserialize(bytes);
  }

  toJSON(): SignedPreKeyStoreJSON {
    return { signedPreKeys: mapToJSON(this.#signedPreKeys) };
  }

  static fromJSON(json: unknown): InMemorySignedPreKeyStore {
    const store = new InMemorySignedPreKeyStore();
    store.#signedPreKeys = numericMapFromJSON(signedPreKeyStoreJSONSchema.parse(json).signedPreKeys);
    return store;
  }
}

// ---------------------------------------------------------------------------

export const kyberPreKeyStoreJSONSchema = z.object({
  kyberPreKeys: recordMapSchema,
  /** Ids of last-resort keys: kept after use, unlike one-time ones. */
  lastResort: z.array(z.number().int()),
  /** `kyberId:signedPreKeyId:baseKey` triples already used with a last-resort key. */
  usedLastResort: z.array(z.string()),
});
export type KyberPreKeyStoreJSON = z.infer<typeof kyberPreKeyStoreJSONSchema>;

/**
 * Kyber prekeys, one-time and last-resort. A one-time key is deleted when used. A
 * last-resort key stays, but each (key, signed prekey, base key) combination is
 * accepted only once, so a replayed PreKey message cannot re-run the handshake
 * (what libsignal expects `markKyberPreKeyUsed` to enforce).
 */
export class InMemoryKyberPreKeyStore extends KyberPreKeyStore {
  #kyberPreKeys = new Map<number, Uint8Array<ArrayBuffer>>();
  #lastResort = new Set<number>();
  #usedLastResort = new Set<string>();

  override async saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
    this.#kyberPreKeys.set(id, record.serialize());
  }

  /** Saves a last-resort key (one that survives use). */
  saveLastResortKyberPreKey(id: number, record: KyberPreKeyRecord): void {
    this.#kyberPreKeys.set(id, record.serialize());
    this.#lastResort.add(id);
  }

  override async getKyberPreKey(id: number): Promise<KyberPreKeyRecord> {
    const bytes = this.#kyberPreKeys.get(id);
    if (!bytes) throw missing("Kyber prekey", id);
    return KyberPreKeyRecord.deserialize(bytes);
  }

  override async markKyberPreKeyUsed(id: number, signedPreKeyId: number, baseKey: PublicKey): Promise<void> {
    if (!this.#lastResort.has(id)) {
      this.#kyberPreKeys.delete(id);
      return;
    }
    const use = `${id}:${signedPreKeyId}:${toBase64(baseKey.serialize())}`;
    if (this.#usedLastResort.has(use)) throw new Error(`last-resort Kyber prekey ${id} reused with the same base key`);
    this.#usedLastResort.add(use);
  }

  /** How many one-time Kyber prekeys are still unused. */
  get oneTimeSize(): number {
    return this.#kyberPreKeys.size - this.#lastResort.size;
  }

  toJSON(): KyberPreKeyStoreJSON {
    return {
      kyberPreKeys: mapToJSON(this.#kyberPreKeys),
      lastResort: [...this.#lastResort],
      usedLastResort: [...this.#usedLastResort],
    };
  }

  static fromJSON(json: unknown): InMemoryKyberPreKeyStore {
    const parsed = kyberPreKeyStoreJSONSchema.parse(json);
    const store = new InMemoryKyberPreKeyStore();
    store.#kyberPreKeys = numericMapFromJSON(parsed.kyberPreKeys);
    store.#lastResort = new Set(parsed.lastResort);
    store.#usedLastResort = new Set(parsed.usedLastResort);
    return store;
  }
}
