/**
 * The key material of seeded devices: ONE real libsignal key set (identity key,
 * signed prekey, last-resort Kyber prekey, k one-time prekeys) generated once per
 * run and stored for every seeded device.
 *
 * Sharing public keys across devices is a load-test shortcut: it gives every seeded
 * device a valid, signature-checked bundle (so `keys.bundle` and session set-up
 * cost the server what they cost for real devices) without generating a Kyber1024
 * key pair per user (~0.2 ms each, plus 1.6 KB streamed per row). Nobody holds the
 * private halves after the run, so sessions to seeded devices can be started but
 * their messages cannot be decrypted; the k6 scripts send opaque ciphertext anyway.
 */
import { SignalDevice } from "@handshake/crypto";

/** Public key material stored for each seeded device (raw bytes). */
export interface SeedKeySet {
  registrationId: number;
  identityKey: Buffer;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  /** The last-resort Kyber prekey. */
  kyberPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  oneTimePreKeys: { keyId: number; publicKey: Buffer }[];
}

/** Generates the shared key set with `oneTimeCount` one-time EC prekeys. */
export async function generateKeySet(oneTimeCount: number): Promise<SeedKeySet> {
  const device = await SignalDevice.create();
  const upload = await device.generatePreKeys({ oneTimeCount });
  const bytes = (b64: string) => Buffer.from(b64, "base64");
  return {
    registrationId: upload.registrationId,
    identityKey: bytes(upload.identityKey),
    signedPreKey: {
      keyId: upload.signedPreKey.keyId,
      publicKey: bytes(upload.signedPreKey.publicKey),
      signature: bytes(upload.signedPreKey.signature),
    },
    kyberPreKey: {
      keyId: upload.kyberPreKey.keyId,
      publicKey: bytes(upload.kyberPreKey.publicKey),
      signature: bytes(upload.kyberPreKey.signature),
    },
    oneTimePreKeys: (upload.oneTimePreKeys ?? []).map((k) => ({ keyId: k.keyId, publicKey: bytes(k.publicKey) })),
  };
}
