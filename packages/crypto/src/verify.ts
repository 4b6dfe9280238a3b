/**
 * Server-side check of a prekey upload before it enters the key directory.
 */
import { KEMPublicKey, PublicKey } from "@signalapp/libsignal-client";
import { fromBase64, preKeyUploadSchema } from "./wire";

export type VerifyResult = { ok: true } | { ok: false; problems: string[] };

/**
 * Checks that an upload has the `preKeyUploadSchema` shape, that every key
 * deserializes as a libsignal key, that the signed EC prekey and every Kyber
 * prekey (last-resort and one-time) carry a valid XEdDSA signature by the
 * uploaded identity key, and that no key id repeats within a kind (the
 * last-resort and one-time Kyber keys share one id space on the device).
 *
 * Cost (`pnpm --filter @handshake/crypto bench`, 2-core build machine): one
 * signature check ~0.07 ms, so ~0.45 ms for an upload with 100 one-time EC keys and
 * no one-time Kyber keys, ~8.7 ms at the maximum of 100 of each (each Kyber key is
 * a signature check). Synchronous: a server taking full uploads at a high rate
 * should mind the event loop.
 */
export function verifyPreKeyUpload(upload: unknown): VerifyResult {
  const parsed = preKeyUploadSchema.safeParse(upload);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => `${issue.path.join(".") || "upload"}: ${issue.message}`),
    };
  }
  const { identityKey, signedPreKey, kyberPreKey, oneTimePreKeys, oneTimeKyberPreKeys } = parsed.data;
  const problems: string[] = [];

  let identity: PublicKey;
  try {
    identity = PublicKey.deserialize(fromBase64(identityKey));
  } catch (error) {
    return { ok: false, problems: [`identityKey: not a libsignal EC public key (${describe(error)})`] };
  }

  const checkSigned = (where: string, publicKey: string, signature: string, deserialize: (bytes: Uint8Array<ArrayBuffer>) => unknown) => {
    const bytes = fromBase64(publicKey);
    try {
      deserialize(bytes);
    } catch (error) {
      problems.push(`${where}.publicKey: does not deserialize (${describe(error)})`);
      return;
    }
    if (!identity.verify(bytes, fromBase64(signature))) {
      problems.push(`${where}.signature: not a signature of this public key by identityKey`);
    }
  };

  checkSigned("signedPreKey", signedPreKey.publicKey, signedPreKey.signature, (b) => PublicKey.deserialize(b));
  checkSigned("kyberPreKey", kyberPreKey.publicKey, kyberPreKey.signature, (b) => KEMPublicKey.deserialize(b));
  oneTimeKyberPreKeys.forEach((key, i) =>
    checkSigned(`oneTimeKyberPreKeys.${i}`, key.publicKey, key.signature, (b) => KEMPublicKey.deserialize(b)),
  );
  oneTimePreKeys.forEach((key, i) => {
    try {
      PublicKey.deserialize(fromBase64(key.publicKey));
    } catch (error) {
      problems.push(`oneTimePreKeys.${i}.publicKey: does not deserialize (${describe(error)})`);
    }
  });

  problems.push(...duplicates("oneTimePreKeys", oneTimePreKeys.map((k) => k.keyId)));
  problems.push(...duplicates("kyber prekeys", [kyberPreKey.keyId, ...oneTimeKyberPreKeys.map((k) => k.keyId)]));

  return problems.length === 0 ? { ok: true } : { ok: false, problems };
}

function duplicates(where: string, ids: number[]): string[] {
  const seen = new Set<number>();
  const repeated = new Set<number>();
  for (const id of ids) (seen.has(id) ? repeated : seen).add(id);
  return [...repeated].map((id) => `${where}: keyId ${id} appears more than once`);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
