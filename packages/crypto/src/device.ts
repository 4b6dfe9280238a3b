/**
 * One local device's Signal-protocol state: identity, prekeys and sessions, with
 * the operations a messaging client needs (publish prekeys, start a session from
 * a server bundle, encrypt, decrypt) and whole-state export/import.
 */
import { randomInt } from "node:crypto";
import {
  CiphertextMessageType,
  IdentityKeyPair,
  KEMKeyPair,
  KEMPublicKey,
  KyberPreKeyRecord,
  PreKeyBundle as LibsignalPreKeyBundle,
  PreKeyRecord,
  PreKeySignalMessage,
  PrivateKey,
  ProtocolAddress,
  PublicKey,
  SignalMessage,
  SignedPreKeyRecord,
  processPreKeyBundle,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
} from "@signalapp/libsignal-client";
import { z } from "zod";
import {
  CryptoError,
  DecryptionError,
  InvalidBundleError,
  InvalidDeviceStateError,
  NoSessionError,
  UnsupportedEnvelopeTypeError,
  wrapLibsignalError,
} from "./errors";
import {
  type IdentityPolicy,
  InMemoryIdentityKeyStore,
  InMemoryKyberPreKeyStore,
  InMemoryPreKeyStore,
  InMemorySessionStore,
  InMemorySignedPreKeyStore,
  identityStoreJSONSchema,
  kyberPreKeyStoreJSONSchema,
  preKeyStoreJSONSchema,
  sessionStoreJSONSchema,
  signedPreKeyStoreJSONSchema,
} from "./stores";
import {
  EnvelopeType,
  MAX_PREKEYS_PER_UPLOAD,
  type PreKeyBundle,
  type PreKeyUpload,
  fromBase64,
  keyIdSchema,
  toBase64,
} from "./wire";

/** A device somewhere: the account it belongs to and its device id (1-127 in libsignal). */
export interface DeviceAddress {
  accountId: string;
  deviceId: number;
}

/** What `encrypt` produces and `decrypt` takes: the `type` and `content` of an envelope. */
export interface EncryptedMessage {
  type: typeof EnvelopeType.CIPHERTEXT | typeof EnvelopeType.PREKEY_BUNDLE;
  /** Serialized Signal message, base64. */
  content: string;
}

const deviceAddressSchema = z.object({ accountId: z.string(), deviceId: z.number().int().min(1).max(127) });

/** The JSON form of a whole device, as `SignalDevice.export()` writes it. */
export const deviceStateSchema = z.object({
  version: z.literal(1),
  address: deviceAddressSchema.nullable(),
  nextKeyIds: z.object({ preKey: keyIdSchema, signedPreKey: keyIdSchema, kyberPreKey: keyIdSchema }),
  identity: identityStoreJSONSchema,
  sessions: sessionStoreJSONSchema,
  preKeys: preKeyStoreJSONSchema,
  signedPreKeys: signedPreKeyStoreJSONSchema,
  kyberPreKeys: kyberPreKeyStoreJSONSchema,
});
export type DeviceState = z.infer<typeof deviceStateSchema>;

export interface SignalDeviceOptions {
  /** 1-16380; random when omitted. */
  registrationId?: number;
  /** This device's own address, if already known (it can be set later with `setAddress`). */
  address?: DeviceAddress;
  /** Identity-change policy, see `IdentityPolicy`; `strict` when omitted. */
  identityPolicy?: IdentityPolicy;
  /**
   * Clock for record timestamps and session expiry. libsignal stops using a session
   * it initiated that got no reply within 30 days, so a simulation clock that jumps
   * ahead ages sessions with it.
   */
  now?: () => Date;
}

// libsignal wants a local address on every call. It does not enter the cryptography
// (a session set up under one local name decrypts under another), so before the
// server has assigned an address a placeholder is enough.
const UNASSIGNED_ADDRESS: DeviceAddress = { accountId: "unassigned", deviceId: 1 };

const MAX_KEY_ID = 0xff_ffff;
const MAX_REGISTRATION_ID = 16380;

/** One device's Signal-protocol state. Operations on one instance run one at a time. */
export class SignalDevice {
  readonly #identity: InMemoryIdentityKeyStore;
  readonly #sessions: InMemorySessionStore;
  readonly #preKeys: InMemoryPreKeyStore;
  readonly #signedPreKeys: InMemorySignedPreKeyStore;
  readonly #kyberPreKeys: InMemoryKyberPreKeyStore;
  #address: DeviceAddress | null;
  #nextKeyIds: DeviceState["nextKeyIds"];
  readonly #now: () => Date;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(parts: {
    identity: InMemoryIdentityKeyStore;
    sessions: InMemorySessionStore;
    preKeys: InMemoryPreKeyStore;
    signedPreKeys: InMemorySignedPreKeyStore;
    kyberPreKeys: InMemoryKyberPreKeyStore;
    address: DeviceAddress | null;
    nextKeyIds: DeviceState["nextKeyIds"];
    now: () => Date;
  }) {
    this.#identity = parts.identity;
    this.#sessions = parts.sessions;
    this.#preKeys = parts.preKeys;
    this.#signedPreKeys = parts.signedPreKeys;
    this.#kyberPreKeys = parts.kyberPreKeys;
    this.#address = parts.address;
    this.#nextKeyIds = parts.nextKeyIds;
    this.#now = parts.now;
  }

  /** A new device with a fresh identity key pair and registration id, and no prekeys yet. */
  static async create(opts: SignalDeviceOptions = {}): Promise<SignalDevice> {
    const registrationId = opts.registrationId ?? randomInt(1, MAX_REGISTRATION_ID + 1);
    if (!Number.isInteger(registrationId) || registrationId < 1 || registrationId > MAX_REGISTRATION_ID) {
      throw new CryptoError(`registrationId must be an integer in 1..${MAX_REGISTRATION_ID}, got ${registrationId}`);
    }
    if (opts.address) deviceAddressSchema.parse(opts.address);
    return new SignalDevice({
      identity: new InMemoryIdentityKeyStore(IdentityKeyPair.generate(), registrationId, opts.identityPolicy),
      sessions: new InMemorySessionStore(),
      preKeys: new InMemoryPreKeyStore(),
      signedPreKeys: new InMemorySignedPreKeyStore(),
      kyberPreKeys: new InMemoryKyberPreKeyStore(),
      address: opts.address ?? null,
      nextKeyIds: { preKey: 1, signedPreKey: 1, kyberPreKey: 1 },
      now: opts.now ?? (() => new Date()),
    });
  }

  /** Restores a device from `export()` output. Throws `InvalidDeviceStateError` on malformed state. */
  static import(json: unknown, opts: Pick<SignalDeviceOptions, "now"> = {}): SignalDevice {
    try {
      const state = deviceStateSchema.parse(json);
      return new SignalDevice({
        identity: InMemoryIdentityKeyStore.fromJSON(state.identity),
        sessions: InMemorySessionStore.fromJSON(state.sessions),
        preKeys: InMemoryPreKeyStore.fromJSON(state.preKeys),
        signedPreKeys: InMemorySignedPreKeyStore.fromJSON(state.signedPreKeys),
        kyberPreKeys: InMemoryKyberPreKeyStore.fromJSON(state.kyberPreKeys),
        address: state.address,
        nextKeyIds: { ...state.nextKeyIds },
        now: opts.now ?? (() => new Date()),
      });
    } catch (error) {
      throw new InvalidDeviceStateError(`cannot import device state: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * The whole state as plain JSON (private keys included: store it like a secret).
   * Waits for operations in flight, so the snapshot is never half an operation.
   */
  async export(): Promise<DeviceState> {
    return this.#exclusive(async () => ({
      version: 1 as const,
      address: this.#address ? { ...this.#address } : null,
      nextKeyIds: { ...this.#nextKeyIds },
      identity: this.#identity.toJSON(),
      sessions: this.#sessions.toJSON(),
      preKeys: this.#preKeys.toJSON(),
      signedPreKeys: this.#signedPreKeys.toJSON(),
      kyberPreKeys: this.#kyberPreKeys.toJSON(),
    }));
  }

  /** The public identity key, base64 (what the server lists as the device's identity). */
  get identityKey(): string {
    return toBase64(this.#identity.identityKeyPair.publicKey.serialize());
  }

  get registrationId(): number {
    return this.#identity.registrationId;
  }

  get address(): DeviceAddress | null {
    return this.#address ? { ...this.#address } : null;
  }

  /** Records the address the server assigned to this device. */
  setAddress(address: DeviceAddress): void {
    this.#address = deviceAddressSchema.parse(address);
  }

  /** Unused one-time prekeys still held locally (the server's count may be lower). */
  get unusedPreKeys(): { ec: number; kyber: number } {
    return { ec: this.#preKeys.size, kyber: this.#kyberPreKeys.oneTimeSize };
  }

  /**
   * Generates a new signed EC prekey, a new last-resort Kyber prekey and the
   * requested one-time prekeys, keeps their private halves, and returns the public
   * halves in the `preKeyUploadSchema` shape. Key ids increase across calls; older
   * signed and last-resort keys are kept so in-flight PreKey messages still decrypt.
   */
  async generatePreKeys(opts: { oneTimeCount: number; oneTimeKyberCount?: number }): Promise<PreKeyUpload> {
    const oneTimeKyberCount = opts.oneTimeKyberCount ?? 0;
    for (const [name, count] of [["oneTimeCount", opts.oneTimeCount], ["oneTimeKyberCount", oneTimeKyberCount]] as const) {
      if (!Number.isInteger(count) || count < 0 || count > MAX_PREKEYS_PER_UPLOAD) {
        throw new CryptoError(`${name} must be an integer in 0..${MAX_PREKEYS_PER_UPLOAD}, got ${count}`);
      }
    }
    return this.#exclusive(async () => {
      const identityKey = this.#identity.identityKeyPair;
      const timestamp = this.#now().getTime();

      const [signedId] = this.#takeIds("signedPreKey", 1) as [number];
      const [lastResortId] = this.#takeIds("kyberPreKey", 1) as [number];
      const oneTimeIds = this.#takeIds("preKey", opts.oneTimeCount);
      const oneTimeKyberIds = this.#takeIds("kyberPreKey", oneTimeKyberCount);

      const signedPrivate = PrivateKey.generate();
      const signedPublic = signedPrivate.getPublicKey().serialize();
      const signedSignature = identityKey.privateKey.sign(signedPublic);
      await this.#signedPreKeys.saveSignedPreKey(
        signedId,
        SignedPreKeyRecord.new(signedId, timestamp, signedPrivate.getPublicKey(), signedPrivate, signedSignature),
      );

      const kyber = (id: number) => {
        const keyPair = KEMKeyPair.generate();
        const publicKey = keyPair.getPublicKey().serialize();
        const signature = identityKey.privateKey.sign(publicKey);
        const record = KyberPreKeyRecord.new(id, timestamp, keyPair, signature);
        return { record, wire: { keyId: id, publicKey: toBase64(publicKey), signature: toBase64(signature) } };
      };

      const lastResort = kyber(lastResortId);
      this.#kyberPreKeys.saveLastResortKyberPreKey(lastResortId, lastResort.record);

      const oneTimePreKeys = [];
      for (const id of oneTimeIds) {
        const privateKey = PrivateKey.generate();
        await this.#preKeys.savePreKey(id, PreKeyRecord.new(id, privateKey.getPublicKey(), privateKey));
        oneTimePreKeys.push({ keyId: id, publicKey: toBase64(privateKey.getPublicKey().serialize()) });
      }

      const oneTimeKyberPreKeys = [];
      for (const id of oneTimeKyberIds) {
        const key = kyber(id);
        await this.#kyberPreKeys.saveKyberPreKey(id, key.record);
        oneTimeKyberPreKeys.push(key.wire);
      }

      return {
        identityKey: this.identityKey,
        registrationId: this.registrationId,
        signedPreKey: { keyId: signedId, publicKey: toBase64(signedPublic), signature: toBase64(signedSignature) },
        kyberPreKey: lastResort.wire,
        oneTimePreKeys,
        oneTimeKyberPreKeys,
      };
    });
  }

  /**
   * Sets up a session with `remote` from the bundle the server handed out (checking
   * its signatures). The next `encrypt` to `remote` yields a PreKey message (type 3).
   * Throws `InvalidBundleError` or `UntrustedIdentityError`.
   */
  async startSession(remote: DeviceAddress, bundle: PreKeyBundle): Promise<void> {
    if (bundle.accountId !== remote.accountId || bundle.deviceId !== remote.deviceId) {
      throw new InvalidBundleError(
        `bundle is for ${bundle.accountId}.${bundle.deviceId}, not ${remote.accountId}.${remote.deviceId}`,
      );
    }
    let libsignalBundle: LibsignalPreKeyBundle;
    try {
      libsignalBundle = LibsignalPreKeyBundle.new(
        bundle.registrationId,
        bundle.deviceId,
        bundle.oneTimePreKey?.keyId ?? null,
        bundle.oneTimePreKey ? PublicKey.deserialize(fromBase64(bundle.oneTimePreKey.publicKey)) : null,
        bundle.signedPreKey.keyId,
        PublicKey.deserialize(fromBase64(bundle.signedPreKey.publicKey)),
        fromBase64(bundle.signedPreKey.signature),
        PublicKey.deserialize(fromBase64(bundle.identityKey)),
        bundle.kyberPreKey.keyId,
        KEMPublicKey.deserialize(fromBase64(bundle.kyberPreKey.publicKey)),
        fromBase64(bundle.kyberPreKey.signature),
      );
    } catch (error) {
      throw new InvalidBundleError(`bundle for ${addressString(remote)} does not deserialize: ${String(error)}`, {
        cause: error,
      });
    }
    await this.#exclusive(async () => {
      try {
        await processPreKeyBundle(libsignalBundle, toProtocolAddress(remote), this.#local(), this.#sessions, this.#identity, this.#now());
      } catch (error) {
        throw wrapLibsignalError(error, `starting a session with ${addressString(remote)}`, (m, o) => new InvalidBundleError(m, o));
      }
    });
  }

  /** Whether a session with `remote` exists that `encrypt` can use now. */
  async hasSession(remote: DeviceAddress): Promise<boolean> {
    const record = await this.#sessions.getSession(toProtocolAddress(remote));
    return record?.hasCurrentState(this.#now()) ?? false;
  }

  /** Forgets the session with `remote` (the next send needs a fresh bundle). */
  async deleteSession(remote: DeviceAddress): Promise<void> {
    await this.#exclusive(async () => this.#sessions.deleteSession(toProtocolAddress(remote)));
  }

  /** The identity key trusted for `remote`, base64, or null if none is known. */
  async remoteIdentity(remote: DeviceAddress): Promise<string | null> {
    const key = await this.#identity.getIdentity(toProtocolAddress(remote));
    return key ? toBase64(key.serialize()) : null;
  }

  /**
   * Trusts `identityKey` (base64) for `remote` from now on: what the user does after
   * an `UntrustedIdentityError` by accepting the new safety number.
   */
  async trustIdentity(remote: DeviceAddress, identityKey: string): Promise<void> {
    const key = PublicKey.deserialize(fromBase64(identityKey));
    await this.#exclusive(async () => this.#identity.trust(toProtocolAddress(remote), key));
  }

  /**
   * Encrypts `plaintext` for `remote`. Type 3 (PreKey) until `remote` has replied on
   * the session, type 1 after. Throws `NoSessionError` without a session.
   */
  async encrypt(remote: DeviceAddress, plaintext: Uint8Array): Promise<EncryptedMessage> {
    const address = toProtocolAddress(remote);
    const message = new Uint8Array(plaintext);
    return this.#exclusive(async () => {
      if (!(await this.hasSession(remote))) {
        throw new NoSessionError(`no session with ${addressString(remote)}: start one from its prekey bundle`);
      }
      try {
        const ciphertext = await signalEncrypt(message, address, this.#local(), this.#sessions, this.#identity, this.#now());
        return { type: toEnvelopeType(ciphertext.type()), content: toBase64(ciphertext.serialize()) };
      } catch (error) {
        throw wrapLibsignalError(error, `encrypting for ${addressString(remote)}`, (m, o) => new CryptoError(m, o));
      }
    });
  }

  /**
   * Decrypts an envelope from `remote`. Type 3 may set up a session (consuming a
   * one-time prekey); type 1 needs an existing one. Throws `DecryptionError` (or its
   * subclass `DuplicateMessageError`), `UntrustedIdentityError`, or
   * `UnsupportedEnvelopeTypeError` for any other type.
   */
  async decrypt(remote: DeviceAddress, message: { type: number; content: string }): Promise<Uint8Array> {
    if (message.type !== EnvelopeType.CIPHERTEXT && message.type !== EnvelopeType.PREKEY_BUNDLE) {
      throw new UnsupportedEnvelopeTypeError(
        `envelope type ${message.type} carries no Signal message (expected ${EnvelopeType.CIPHERTEXT} or ${EnvelopeType.PREKEY_BUNDLE})`,
      );
    }
    const what = `decrypting a type ${message.type} message from ${addressString(remote)}`;
    const address = toProtocolAddress(remote);
    return this.#exclusive(async () => {
      try {
        const bytes = fromBase64(message.content);
        if (message.type === EnvelopeType.PREKEY_BUNDLE) {
          return await signalDecryptPreKey(
            PreKeySignalMessage.deserialize(bytes),
            address,
            this.#local(),
            this.#sessions,
            this.#identity,
            this.#preKeys,
            this.#signedPreKeys,
            this.#kyberPreKeys,
          );
        }
        return await signalDecrypt(SignalMessage.deserialize(bytes), address, this.#local(), this.#sessions, this.#identity);
      } catch (error) {
        throw wrapLibsignalError(error, what, (m, o) => new DecryptionError(m, o));
      }
    });
  }

  #local(): ProtocolAddress {
    return toProtocolAddress(this.#address ?? UNASSIGNED_ADDRESS);
  }

  #takeIds(kind: keyof DeviceState["nextKeyIds"], count: number): number[] {
    const first = this.#nextKeyIds[kind];
    if (first + count > MAX_KEY_ID) throw new CryptoError(`${kind} ids exhausted (max ${MAX_KEY_ID})`);
    this.#nextKeyIds[kind] = first + count;
    return Array.from({ length: count }, (_, i) => first + i);
  }

  // libsignal reads a session, awaits the store, then writes it back: two overlapping
  // calls for one peer would reuse a message key. The in-memory stores happen not to
  // yield in between, but with a store that does real I/O 17 of 20 concurrent encrypts
  // came out as duplicates, so every operation is chained.
  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

function toProtocolAddress(address: DeviceAddress): ProtocolAddress {
  return ProtocolAddress.new(address.accountId, address.deviceId);
}

function addressString(address: DeviceAddress): string {
  return `${address.accountId}.${address.deviceId}`;
}

function toEnvelopeType(type: number): EncryptedMessage["type"] {
  // libsignal numbers a plain Signal message 2 ("Whisper"); the envelope calls it 1.
  if (type === CiphertextMessageType.Whisper) return EnvelopeType.CIPHERTEXT;
  if (type === CiphertextMessageType.PreKey) return EnvelopeType.PREKEY_BUNDLE;
  throw new CryptoError(`libsignal produced an unexpected ciphertext type ${type}`);
}
