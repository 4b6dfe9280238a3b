import { IdentityKeyPair } from "@signalapp/libsignal-client";
import { beforeAll, describe, expect, it } from "vitest";
import { SignalDevice } from "./device";
import { verifyPreKeyUpload } from "./verify";
import { type PreKeyUpload, fromBase64, toBase64 } from "./wire";

let upload: PreKeyUpload;
let other: PreKeyUpload;

beforeAll(async () => {
  upload = await (await SignalDevice.create()).generatePreKeys({ oneTimeCount: 3, oneTimeKyberCount: 2 });
  other = await (await SignalDevice.create()).generatePreKeys({ oneTimeCount: 1, oneTimeKyberCount: 1 });
});

function problemsOf(candidate: unknown): string[] {
  const result = verifyPreKeyUpload(candidate);
  return result.ok ? [] : result.problems;
}

function flipLastByte(base64: string): string {
  const bytes = fromBase64(base64);
  bytes[bytes.length - 1]! ^= 0x01;
  return toBase64(bytes);
}

describe("verifyPreKeyUpload", () => {
  it("accepts what SignalDevice.generatePreKeys produced", () => {
    expect(verifyPreKeyUpload(upload)).toEqual({ ok: true });
  });

  it("rejects a forged signed-prekey signature", () => {
    const forged = { ...upload, signedPreKey: { ...upload.signedPreKey, signature: flipLastByte(upload.signedPreKey.signature) } };
    expect(problemsOf(forged)).toEqual([expect.stringMatching(/^signedPreKey\.signature:/)]);
  });

  it("rejects forged Kyber prekey signatures, last-resort and one-time", () => {
    const [first, second] = upload.oneTimeKyberPreKeys!;
    const forged = {
      ...upload,
      kyberPreKey: { ...upload.kyberPreKey, signature: toBase64(new Uint8Array(64)) },
      oneTimeKyberPreKeys: [first, { ...second!, signature: flipLastByte(second!.signature) }],
    };
    expect(problemsOf(forged)).toEqual([
      expect.stringMatching(/^kyberPreKey\.signature:/),
      expect.stringMatching(/^oneTimeKyberPreKeys\.1\.signature:/),
    ]);
  });

  it("rejects keys signed by another identity (an identity key swapped in)", () => {
    // Another device's genuine keys and signatures, presented under this identity.
    const swapped = { ...upload, signedPreKey: other.signedPreKey, kyberPreKey: other.kyberPreKey };
    expect(problemsOf(swapped)).toEqual([
      expect.stringMatching(/^signedPreKey\.signature:/),
      expect.stringMatching(/^kyberPreKey\.signature:/),
    ]);
    // And this device's keys claimed by another identity.
    expect(problemsOf({ ...upload, identityKey: other.identityKey }).length).toBeGreaterThanOrEqual(4);
  });

  it("rejects a signature made by another identity key over the very same public key", () => {
    const mallory = IdentityKeyPair.generate();
    const resigned = toBase64(mallory.privateKey.sign(fromBase64(upload.signedPreKey.publicKey)));
    expect(problemsOf({ ...upload, signedPreKey: { ...upload.signedPreKey, signature: resigned } })).toEqual([
      expect.stringMatching(/^signedPreKey\.signature:/),
    ]);
  });

  it("reports keys that do not deserialize instead of throwing", () => {
    const badType = fromBase64(upload.identityKey);
    badType[0] = 0x7f; // not the Curve25519 type byte
    expect(problemsOf({ ...upload, identityKey: toBase64(badType) })).toEqual([
      expect.stringMatching(/^identityKey: not a libsignal EC public key/),
    ]);
    const badPreKey = fromBase64(upload.oneTimePreKeys![0]!.publicKey);
    badPreKey[0] = 0x7f;
    const keys = [{ keyId: 99, publicKey: toBase64(badPreKey) }];
    expect(problemsOf({ ...upload, oneTimePreKeys: keys })).toEqual([expect.stringMatching(/^oneTimePreKeys\.0\.publicKey:/)]);
  });

  it("reports schema violations as problems", () => {
    expect(problemsOf({ ...upload, registrationId: 0 })).toEqual([expect.stringMatching(/^registrationId:/)]);
    expect(problemsOf({ ...upload, kyberPreKey: { ...upload.kyberPreKey, publicKey: "AAAA" } })).toEqual([
      expect.stringMatching(/^kyberPreKey\.publicKey:/),
    ]);
    expect(problemsOf(null)).toHaveLength(1);
  });

  it("rejects repeated key ids", () => {
    const [a] = upload.oneTimePreKeys!;
    const [k] = upload.oneTimeKyberPreKeys!;
    const repeated = {
      ...upload,
      oneTimePreKeys: [a, a],
      oneTimeKyberPreKeys: [{ ...k!, keyId: upload.kyberPreKey.keyId }],
    };
    expect(problemsOf(repeated)).toEqual([
      `oneTimePreKeys: keyId ${a!.keyId} appears more than once`,
      `kyber prekeys: keyId ${upload.kyberPreKey.keyId} appears more than once`,
    ]);
  });
});
