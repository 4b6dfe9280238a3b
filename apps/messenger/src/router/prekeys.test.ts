/**
 * Prekey exhaustion (issue 10, defect 9): one device took all 100 of a victim's
 * one-time prekeys in a burst. Fetches are limited per (requester, target), as
 * Signal-Server's `prekeys` limiter does, and one-time prekeys per target; past
 * that a bundle carries the last-resort Kyber key, and a real libsignal session
 * starts from it. Real server over HTTP and WebSocket, real PostgreSQL.
 */
import { randomUUID } from "node:crypto";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveredEnvelope } from "@handshake/crypto/wire";
import { rateLimitCatalogue } from "../rate-limits";
import { startTestMessenger, type TestMessenger } from "../testing";
import { registerAccount, wsApi, type TestAccount } from "../../test/helpers";

const PER_TARGET = 10;
const PER_PAIR = rateLimitCatalogue.prekeysPerPair.capacity;

let messenger: TestMessenger;
beforeAll(async () => {
  messenger = await startTestMessenger({
    rateLimits: { prekeysPerTarget: { capacity: PER_TARGET, refillPerSecond: 1 / 3600, description: "one-time prekeys handed out for this device" } },
  });
});
afterAll(async () => {
  await messenger?.close();
});

const codeOf = (error: unknown) => (error instanceof TRPCClientError ? (error.data as { code?: string }).code : String(error));
const fetchBundle = (from: TestAccount, to: TestAccount) => from.api.keys.bundle.query({ accountId: to.accountId });

/** Collects the victim's next `n` envelopes over a real WebSocket and decrypts them with its Signal device. */
async function receive(victim: TestAccount, n: number): Promise<{ type: number; text: string }[]> {
  const ws = wsApi(messenger.url, victim.credential);
  const envelopes: DeliveredEnvelope[] = [];
  await new Promise<void>((resolve) => {
    const sub = ws.api.inbox.stream.subscribe(undefined, {
      onData: (event) => {
        envelopes.push(event.data as DeliveredEnvelope);
        if (envelopes.length === n) {
          sub.unsubscribe();
          resolve();
        }
      },
    });
  });
  ws.close();
  const out = [];
  for (const envelope of envelopes) {
    const plaintext = await victim.signal.decrypt({ accountId: envelope.senderAccountId, deviceId: envelope.senderDeviceId }, envelope);
    out.push({ type: envelope.type, text: new TextDecoder().decode(plaintext) });
  }
  return out;
}

describe("prekey bundles under abuse", () => {
  it("refuses one device a burst of fetches for one target: it gets at most the pair's budget of one-time prekeys", async () => {
    const victim = await registerAccount(messenger.url, { keys: 100 });
    const attacker = await registerAccount(messenger.url);
    const outcomes = await Promise.allSettled(Array.from({ length: 100 }, () => fetchBundle(attacker, victim)));
    const served = outcomes.filter((o) => o.status === "fulfilled");
    expect(served).toHaveLength(PER_PAIR);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(new Set(refused.map((o) => codeOf(o.reason)))).toEqual(new Set(["TOO_MANY_REQUESTS"]));
    expect((refused[0]!.reason as Error).message).toMatch(/rate limit "prekeysPerPair" exceeded.*retry in/);
    expect(await victim.api.keys.count.query()).toMatchObject({ oneTimePreKeys: 100 - PER_PAIR });
    // Someone else can still start a session with the victim.
    const friend = await registerAccount(messenger.url);
    expect((await fetchBundle(friend, victim)).oneTimePreKey).not.toBeNull();
  });

  it("hands out at most the target's one-time budget to many devices together, then last-resort bundles, never refusing", async () => {
    const victim = await registerAccount(messenger.url, { keys: 100 });
    const sybils = await Promise.all(Array.from({ length: 5 }, () => registerAccount(messenger.url)));
    const bundles = await Promise.all(Array.from({ length: 5 * PER_PAIR }, (_, i) => fetchBundle(sybils[i % 5]!, victim)));
    const withOneTime = bundles.filter((b) => b.oneTimePreKey !== null);
    expect(withOneTime).toHaveLength(PER_TARGET);
    expect(new Set(withOneTime.map((b) => b.oneTimePreKey!.keyId)).size).toBe(PER_TARGET);
    const lastResort = bundles.filter((b) => b.oneTimePreKey === null);
    expect(lastResort).toHaveLength(5 * PER_PAIR - PER_TARGET);
    // Every fallback bundle carries the same last-resort Kyber key.
    expect(new Set(lastResort.map((b) => b.kyberPreKey.keyId)).size).toBe(1);
    expect(await victim.api.keys.count.query()).toMatchObject({ oneTimePreKeys: 100 - PER_TARGET });
  });

  it("starts real libsignal sessions from last-resort bundles: two senders' PreKey messages decrypt", async () => {
    const victim = await registerAccount(messenger.url, { keys: 0 }); // no one-time prekeys at all
    const senders = await Promise.all([registerAccount(messenger.url), registerAccount(messenger.url)]);
    for (const [n, sender] of senders.entries()) {
      const bundle = await fetchBundle(sender, victim);
      expect(bundle.oneTimePreKey).toBeNull();
      const recipient = { accountId: victim.accountId, deviceId: 1 };
      await sender.signal.startSession(recipient, bundle);
      const encrypted = await sender.signal.encrypt(recipient, new TextEncoder().encode(`hello ${n} via last resort`));
      await sender.api.message.send.mutate({ messageId: randomUUID(), recipient, type: encrypted.type, content: encrypted.content });
    }
    expect(await receive(victim, 2)).toEqual([
      { type: 3, text: "hello 0 via last resort" },
      { type: 3, text: "hello 1 via last resort" },
    ]);
  });
});
