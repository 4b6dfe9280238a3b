import { describe, expect, it } from "vitest";
import { bundleFromUpload } from "../test/bundles";
import { type DeviceAddress, type EncryptedMessage, SignalDevice } from "./device";
import {
  DecryptionError,
  DuplicateMessageError,
  InvalidBundleError,
  NoSessionError,
  UnsupportedEnvelopeTypeError,
  UntrustedIdentityError,
} from "./errors";
import { EnvelopeType, fromBase64, preKeyUploadSchema, toBase64 } from "./wire";

const ALICE: DeviceAddress = { accountId: "alice", deviceId: 1 };
const BOB: DeviceAddress = { accountId: "bob", deviceId: 1 };

const text = (s: string) => new TextEncoder().encode(s);
const read = (b: Uint8Array) => new TextDecoder().decode(b);

/** Alice and Bob, with Alice holding a session started from Bob's bundle. */
async function pair(bundleOpts: Parameters<typeof bundleFromUpload>[2] = {}) {
  const alice = await SignalDevice.create({ address: ALICE });
  const bob = await SignalDevice.create({ address: BOB });
  await alice.generatePreKeys({ oneTimeCount: 2 });
  const bobUpload = await bob.generatePreKeys({ oneTimeCount: 5, oneTimeKyberCount: 2 });
  await alice.startSession(BOB, bundleFromUpload(bobUpload, BOB, bundleOpts));
  return { alice, bob, bobUpload };
}

/** Sends one message each way so both sides are past the PreKey stage. */
async function established() {
  const p = await pair();
  await p.bob.decrypt(ALICE, await p.alice.encrypt(BOB, text("hello")));
  await p.alice.decrypt(BOB, await p.bob.encrypt(ALICE, text("hi")));
  return p;
}

describe("SignalDevice", () => {
  it("lets Alice and Bob converse both ways", async () => {
    const { alice, bob } = await pair();
    expect(read(await bob.decrypt(ALICE, await alice.encrypt(BOB, text("hi Bob"))))).toBe("hi Bob");
    expect(read(await alice.decrypt(BOB, await bob.encrypt(ALICE, text("hi Alice"))))).toBe("hi Alice");
    expect(read(await bob.decrypt(ALICE, await alice.encrypt(BOB, text("how are you?"))))).toBe("how are you?");
    expect(read(await alice.decrypt(BOB, await bob.encrypt(ALICE, text("fine"))))).toBe("fine");
  });

  it("sends PreKey messages (type 3) until the first reply, then Signal messages (type 1)", async () => {
    const { alice, bob } = await pair();
    const first = await alice.encrypt(BOB, text("1"));
    const second = await alice.encrypt(BOB, text("2"));
    expect([first.type, second.type]).toEqual([EnvelopeType.PREKEY_BUNDLE, EnvelopeType.PREKEY_BUNDLE]);
    await bob.decrypt(ALICE, first);
    await bob.decrypt(ALICE, second);

    const reply = await bob.encrypt(ALICE, text("reply"));
    expect(reply.type).toBe(EnvelopeType.CIPHERTEXT);
    await alice.decrypt(BOB, reply);

    expect((await alice.encrypt(BOB, text("3"))).type).toBe(EnvelopeType.CIPHERTEXT);
  });

  it("decrypts ten messages in a row in order, on a new and on an established session", async () => {
    const { alice, bob } = await pair();
    for (const phase of ["prekey", "established"]) {
      const sent: EncryptedMessage[] = [];
      for (let i = 0; i < 10; i++) sent.push(await alice.encrypt(BOB, text(`${phase} ${i}`)));
      const received = [];
      for (const message of sent) received.push(read(await bob.decrypt(ALICE, message)));
      expect(received).toEqual(Array.from({ length: 10 }, (_, i) => `${phase} ${i}`));
      await alice.decrypt(BOB, await bob.encrypt(ALICE, text("ack")));
    }
  });

  it("decrypts messages of one chain delivered out of order", async () => {
    const { alice, bob } = await established();
    const sent: EncryptedMessage[] = [];
    for (let i = 0; i < 5; i++) sent.push(await alice.encrypt(BOB, text(`m${i}`)));
    for (const i of [4, 1, 3, 0, 2]) {
      expect(read(await bob.decrypt(ALICE, sent[i]!))).toBe(`m${i}`);
    }
  });

  it("rejects a tampered ciphertext with DecryptionError and still decrypts the genuine one", async () => {
    const { alice, bob } = await established();
    const genuine = await alice.encrypt(BOB, text("transfer 10"));
    const bytes = fromBase64(genuine.content);
    bytes[bytes.length - 12]! ^= 0x01; // inside the ciphertext body, before the 8-byte MAC
    const tampered = { type: genuine.type, content: toBase64(bytes) };

    await expect(bob.decrypt(ALICE, tampered)).rejects.toBeInstanceOf(DecryptionError);
    await expect(bob.decrypt(ALICE, { type: genuine.type, content: "bm90IGEgbWVzc2FnZQ==" })).rejects.toBeInstanceOf(
      DecryptionError,
    );
    expect(read(await bob.decrypt(ALICE, genuine))).toBe("transfer 10");
  });

  it("rejects a tampered PreKey message with DecryptionError", async () => {
    const { alice, bob } = await pair();
    const genuine = await alice.encrypt(BOB, text("first"));
    const bytes = fromBase64(genuine.content);
    bytes[bytes.length - 12]! ^= 0x01;
    await expect(bob.decrypt(ALICE, { type: genuine.type, content: toBase64(bytes) })).rejects.toBeInstanceOf(
      DecryptionError,
    );
  });

  it("reports a redelivered message as DuplicateMessageError", async () => {
    const { alice, bob } = await established();
    const message = await alice.encrypt(BOB, text("once"));
    await bob.decrypt(ALICE, message);
    const again = bob.decrypt(ALICE, message);
    await expect(again).rejects.toBeInstanceOf(DuplicateMessageError);
    await expect(again).rejects.toBeInstanceOf(DecryptionError);
  });

  it("continues a conversation after both devices are exported to JSON and imported mid-conversation", async () => {
    const { alice, bob } = await established();
    const inFlight = await alice.encrypt(BOB, text("sent before the restart"));

    const alice2 = SignalDevice.import(JSON.parse(JSON.stringify(await alice.export())));
    const bob2 = SignalDevice.import(JSON.parse(JSON.stringify(await bob.export())));
    expect(alice2.identityKey).toBe(alice.identityKey);
    expect(alice2.registrationId).toBe(alice.registrationId);
    expect(bob2.address).toEqual(BOB);

    expect(read(await bob2.decrypt(ALICE, inFlight))).toBe("sent before the restart");
    expect(read(await alice2.decrypt(BOB, await bob2.encrypt(ALICE, text("after"))))).toBe("after");
    expect(read(await bob2.decrypt(ALICE, await alice2.encrypt(BOB, text("still here"))))).toBe("still here");
  });

  it("keeps unused prekeys across export/import, so a session can start after a restart", async () => {
    const bob = await SignalDevice.create({ address: BOB });
    const upload = await bob.generatePreKeys({ oneTimeCount: 1, oneTimeKyberCount: 1 });
    const restored = SignalDevice.import(await bob.export());
    const alice = await SignalDevice.create({ address: ALICE });
    await alice.startSession(BOB, bundleFromUpload(upload, BOB, { oneTimeKyber: true }));
    expect(read(await restored.decrypt(ALICE, await alice.encrypt(BOB, text("hi"))))).toBe("hi");
    expect(restored.unusedPreKeys).toEqual({ ec: 0, kyber: 0 });
  });

  it("sets up a session from a bundle without a one-time prekey", async () => {
    const { alice, bob } = await pair({ oneTime: false });
    expect(await alice.hasSession(BOB)).toBe(true);
    expect(read(await bob.decrypt(ALICE, await alice.encrypt(BOB, text("no one-time key"))))).toBe("no one-time key");
    expect(bob.unusedPreKeys.ec).toBe(5);
  });

  it("consumes the one-time EC and Kyber prekeys a session used, so a second session from the same bundle fails", async () => {
    const { alice, bob, bobUpload } = await pair({ oneTimeKyber: true });
    await bob.decrypt(ALICE, await alice.encrypt(BOB, text("first")));
    expect(bob.unusedPreKeys).toEqual({ ec: 4, kyber: 1 });

    const carol: DeviceAddress = { accountId: "carol", deviceId: 1 };
    const carolDevice = await SignalDevice.create({ address: carol });
    await carolDevice.startSession(BOB, bundleFromUpload(bobUpload, BOB, { oneTimeKyber: true }));
    await expect(bob.decrypt(carol, await carolDevice.encrypt(BOB, text("replay")))).rejects.toBeInstanceOf(
      DecryptionError,
    );
  });

  it("refuses to encrypt without a session (NoSessionError) and to decrypt a receipt (UnsupportedEnvelopeTypeError)", async () => {
    const alice = await SignalDevice.create();
    expect(await alice.hasSession(BOB)).toBe(false);
    await expect(alice.encrypt(BOB, text("x"))).rejects.toBeInstanceOf(NoSessionError);
    await expect(alice.decrypt(BOB, { type: EnvelopeType.SERVER_DELIVERY_RECEIPT, content: "" })).rejects.toBeInstanceOf(
      UnsupportedEnvelopeTypeError,
    );
  });

  it("rejects a bundle for another address or with a forged signature (InvalidBundleError)", async () => {
    const bob = await SignalDevice.create({ address: BOB });
    const upload = await bob.generatePreKeys({ oneTimeCount: 1 });
    const alice = await SignalDevice.create({ address: ALICE });
    const bundle = bundleFromUpload(upload, BOB);

    await expect(alice.startSession({ accountId: "mallory", deviceId: 1 }, bundle)).rejects.toBeInstanceOf(
      InvalidBundleError,
    );
    const forged = { ...bundle, signedPreKey: { ...bundle.signedPreKey, signature: toBase64(new Uint8Array(64).fill(7)) } };
    await expect(alice.startSession(BOB, forged)).rejects.toBeInstanceOf(InvalidBundleError);
    expect(await alice.hasSession(BOB)).toBe(false);
  });

  it("blocks a changed identity key under the strict policy until it is trusted", async () => {
    const { alice, bob } = await established();
    // Bob reinstalls: new identity, same address.
    const newBob = await SignalDevice.create({ address: BOB });
    const upload = await newBob.generatePreKeys({ oneTimeCount: 1 });
    await expect(alice.startSession(BOB, bundleFromUpload(upload, BOB))).rejects.toBeInstanceOf(UntrustedIdentityError);
    expect(await alice.remoteIdentity(BOB)).toBe(bob.identityKey);

    await alice.trustIdentity(BOB, newBob.identityKey);
    await alice.startSession(BOB, bundleFromUpload(upload, BOB));
    expect(read(await newBob.decrypt(ALICE, await alice.encrypt(BOB, text("welcome back"))))).toBe("welcome back");
  });

  it("takes a changed identity key under the accept-changes policy", async () => {
    const alice = await SignalDevice.create({ address: ALICE, identityPolicy: "accept-changes" });
    for (let install = 0; install < 2; install++) {
      const bob = await SignalDevice.create({ address: BOB });
      await alice.startSession(BOB, bundleFromUpload(await bob.generatePreKeys({ oneTimeCount: 1 }), BOB));
      expect(read(await bob.decrypt(ALICE, await alice.encrypt(BOB, text(`install ${install}`))))).toBe(`install ${install}`);
      expect(await alice.remoteIdentity(BOB)).toBe(bob.identityKey);
    }
  });
});

describe("SignalDevice.generatePreKeys", () => {
  it("returns an upload that passes preKeyUploadSchema.parse, with the requested key counts", async () => {
    const device = await SignalDevice.create({ registrationId: 4242 });
    const upload = await device.generatePreKeys({ oneTimeCount: 3, oneTimeKyberCount: 2 });
    const parsed = preKeyUploadSchema.parse(upload);
    expect(parsed.registrationId).toBe(4242);
    expect(parsed.identityKey).toBe(device.identityKey);
    expect(parsed.oneTimePreKeys).toHaveLength(3);
    expect(parsed.oneTimeKyberPreKeys).toHaveLength(2);
    expect(device.unusedPreKeys).toEqual({ ec: 3, kyber: 2 });
  });

  it("hands out unique, increasing key ids across calls", async () => {
    const device = await SignalDevice.create();
    const first = await device.generatePreKeys({ oneTimeCount: 3, oneTimeKyberCount: 1 });
    const second = await device.generatePreKeys({ oneTimeCount: 3, oneTimeKyberCount: 1 });
    const ecIds = [...first.oneTimePreKeys!, ...second.oneTimePreKeys!].map((k) => k.keyId);
    const kyberIds = [first.kyberPreKey, ...first.oneTimeKyberPreKeys!, second.kyberPreKey, ...second.oneTimeKyberPreKeys!].map(
      (k) => k.keyId,
    );
    const signedIds = [first.signedPreKey.keyId, second.signedPreKey.keyId];
    for (const ids of [ecIds, kyberIds, signedIds]) {
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    }
  });

  it("still decrypts a PreKey message built from an older bundle after new prekeys were generated", async () => {
    const bob = await SignalDevice.create({ address: BOB });
    const old = await bob.generatePreKeys({ oneTimeCount: 1 });
    await bob.generatePreKeys({ oneTimeCount: 1 });
    const alice = await SignalDevice.create({ address: ALICE });
    await alice.startSession(BOB, bundleFromUpload(old, BOB));
    expect(read(await bob.decrypt(ALICE, await alice.encrypt(BOB, text("old bundle"))))).toBe("old bundle");
  });

  it("rejects out-of-range counts and registration ids", async () => {
    await expect(SignalDevice.create({ registrationId: 0 })).rejects.toThrow(/registrationId/);
    const device = await SignalDevice.create();
    await expect(device.generatePreKeys({ oneTimeCount: 101 })).rejects.toThrow(/oneTimeCount/);
    await expect(device.generatePreKeys({ oneTimeCount: 1, oneTimeKyberCount: -1 })).rejects.toThrow(/oneTimeKyberCount/);
  });
});
