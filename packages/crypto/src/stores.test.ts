import {
  IdentityKeyPair,
  KEMKeyPair,
  KyberPreKeyRecord,
  PrivateKey,
  ProtocolAddress,
} from "@signalapp/libsignal-client";
import { describe, expect, it } from "vitest";
import { InMemoryIdentityKeyStore, InMemoryKyberPreKeyStore } from "./stores";

function kyberRecord(id: number): KyberPreKeyRecord {
  const identity = IdentityKeyPair.generate();
  const keyPair = KEMKeyPair.generate();
  return KyberPreKeyRecord.new(id, Date.now(), keyPair, identity.privateKey.sign(keyPair.getPublicKey().serialize()));
}

describe("InMemoryKyberPreKeyStore", () => {
  it("deletes a one-time Kyber prekey when used", async () => {
    const store = new InMemoryKyberPreKeyStore();
    await store.saveKyberPreKey(1, kyberRecord(1));
    await store.markKyberPreKeyUsed(1, 1, PrivateKey.generate().getPublicKey());
    await expect(store.getKyberPreKey(1)).rejects.toThrow(/not found/);
  });

  it("keeps a last-resort key but refuses the same (signed prekey, base key) twice, also after a JSON round trip", async () => {
    const store = new InMemoryKyberPreKeyStore();
    store.saveLastResortKyberPreKey(7, kyberRecord(7));
    const baseKey = PrivateKey.generate().getPublicKey();
    await store.markKyberPreKeyUsed(7, 1, baseKey);
    await store.markKyberPreKeyUsed(7, 1, PrivateKey.generate().getPublicKey());
    expect((await store.getKyberPreKey(7)).id()).toBe(7);
    await expect(store.markKyberPreKeyUsed(7, 1, baseKey)).rejects.toThrow(/reused/);

    const restored = InMemoryKyberPreKeyStore.fromJSON(JSON.parse(JSON.stringify(store.toJSON())));
    await expect(restored.markKyberPreKeyUsed(7, 1, baseKey)).rejects.toThrow(/reused/);
    expect(restored.oneTimeSize).toBe(0);
  });
});

describe("InMemoryIdentityKeyStore", () => {
  const bob = ProtocolAddress.new("bob", 1);

  it("trusts on first use, then only the same key under the strict policy", async () => {
    const store = new InMemoryIdentityKeyStore(IdentityKeyPair.generate(), 1);
    const first = IdentityKeyPair.generate().publicKey;
    const second = IdentityKeyPair.generate().publicKey;
    expect(await store.isTrustedIdentity(bob, first, 0)).toBe(true);
    await store.saveIdentity(bob, first);
    expect(await store.isTrustedIdentity(bob, first, 0)).toBe(true);
    expect(await store.isTrustedIdentity(bob, second, 0)).toBe(false);
    store.policy = "accept-changes";
    expect(await store.isTrustedIdentity(bob, second, 0)).toBe(true);
  });

  it("round-trips its keys and the remote identities through JSON", async () => {
    const store = new InMemoryIdentityKeyStore(IdentityKeyPair.generate(), 99);
    const remote = IdentityKeyPair.generate().publicKey;
    await store.saveIdentity(bob, remote);
    const restored = InMemoryIdentityKeyStore.fromJSON(JSON.parse(JSON.stringify(store.toJSON())));
    expect(restored.registrationId).toBe(99);
    expect(restored.identityKeyPair.publicKey.equals(store.identityKeyPair.publicKey)).toBe(true);
    expect((await restored.getIdentity(bob))?.equals(remote)).toBe(true);
  });
});
