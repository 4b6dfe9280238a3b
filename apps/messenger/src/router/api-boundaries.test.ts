/**
 * Every entry point answers bad input with a clear error and keeps serving.
 * Real server, real HTTP and WebSocket clients, real PostgreSQL.
 */
import { randomUUID } from "node:crypto";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveredEnvelope } from "@handshake/crypto/wire";
import { startTestMessenger, type TestMessenger } from "../testing";
import { androidDevice, httpApi, phone, registerAccount, sendOpaque, verifyAndRegister, wsApi, type RegistrationRequest } from "../../test/helpers";

let messenger: TestMessenger;
beforeAll(async () => {
  messenger = await startTestMessenger({
    rateLimits: {
      send: { capacity: 20, refillPerSecond: 0.001, description: "messages sent by this device" },
      // This file registers many accounts from one address; registration limits have their own test.
      codePerAddress: { capacity: 1_000, refillPerSecond: 100, description: "verification codes requested from this address" },
      registerPerAddress: { capacity: 1_000, refillPerSecond: 100, description: "registration attempts from this address" },
    },
  });
});
afterAll(async () => {
  await messenger?.close();
});

async function rejection(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) return { code: error.data?.code as string, message: error.message };
    throw error;
  }
  throw new Error("expected the call to be refused");
}

const stillServing = async () => {
  const account = await registerAccount(messenger.url);
  expect(account.accountId).toMatch(/^[0-9a-f-]{36}$/);
};

describe("account.register", () => {
  const register = (phoneNumber: string, extra: Omit<RegistrationRequest, "phoneNumber"> = {}) =>
    verifyAndRegister(messenger.url, { phoneNumber, ...extra });

  it("normalises numbers to E.164 and derives the country", async () => {
    const national = await register("0151 23 456 789", { defaultCountry: "DE" });
    expect(national.phoneNumber).toBe("+4915123456789");
    const indian = await register("+91 98765 43210");
    expect(indian.phoneNumber).toBe("+919876543210");
    const rows = await messenger.server.services.sql`select country from accounts where id = ${indian.accountId}`;
    expect(rows[0]?.country).toBe("IN");
  });

  it("refuses malformed, invalid and country-less numbers with a clear message", async () => {
    for (const bad of ["hello", "12", "+49 151", "+1 555 0100 999 999"]) {
      const error = await rejection(register(bad));
      expect(error.code).toBe("BAD_REQUEST");
      expect(error.message).toMatch(/phoneNumber/);
    }
    // A national number means nothing without its country.
    expect((await rejection(register("0151 23 456 780"))).message).toMatch(/phoneNumber/);
    expect((await rejection(register("x".repeat(41)))).code).toBe("BAD_REQUEST");
    await stillServing();
  });

  it("refuses incomplete device info and a business without a name", async () => {
    const error = await rejection(register(phone("8"), { device: { ...androidDevice, os: "symbian" as "android" } }));
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.message).toMatch(/device\.os/);
    expect((await rejection(register(phone("8"), { kind: "business" }))).message).toMatch(/displayName/);
  });

  it("stores only a hash of the credential", async () => {
    const account = await registerAccount(messenger.url);
    const secret = account.credential.split(".")[2]!;
    const rows = await messenger.server.services.sql`select credential_hash from devices where account_id = ${account.accountId}`;
    const stored = (rows[0]?.credential_hash as Buffer).toString("hex");
    expect(stored).toHaveLength(64);
    expect(stored).not.toContain(Buffer.from(secret).toString("hex"));
    expect(stored).not.toContain(secret);
  });
});

describe("credentials", () => {
  it("refuses calls without a credential, with a malformed one, and with a wrong secret", async () => {
    const bob = await registerAccount(messenger.url);
    const send = (credential?: string) =>
      httpApi(messenger.url, credential).message.send.mutate({
        messageId: randomUUID(),
        recipient: { accountId: bob.accountId },
        type: 1,
        content: "AAAA",
      });
    expect(await rejection(send())).toMatchObject({ code: "UNAUTHORIZED", message: expect.stringMatching(/no device credential/) });
    expect(await rejection(send("not-a-credential"))).toMatchObject({ code: "UNAUTHORIZED", message: expect.stringMatching(/malformed/) });
    const [acct, dev] = bob.credential.split(".");
    const forged = `${acct}.${dev}.${"A".repeat(43)}`;
    expect(await rejection(send(forged))).toMatchObject({ code: "UNAUTHORIZED", message: expect.stringMatching(/not recognised/) });
    const unknown = `${randomUUID()}.1.${"A".repeat(43)}`;
    expect((await rejection(send(unknown))).code).toBe("UNAUTHORIZED");
  });

  it("a WebSocket without a valid credential cannot open an inbox", async () => {
    const ws = wsApi(messenger.url, "bogus");
    const error = await new Promise<{ data?: { code?: string } | null }>((resolve) => {
      ws.api.inbox.stream.subscribe(undefined, { onError: (e) => resolve(e as never) });
    });
    expect(error.data?.code).toBe("UNAUTHORIZED");
    ws.close();
  });

  it("a device reads and acks only its own inbox", async () => {
    const alice = await registerAccount(messenger.url);
    const bob = await registerAccount(messenger.url);
    const mallory = await registerAccount(messenger.url);
    await sendOpaque(alice, bob, 2);
    const envelopeIds = (
      await messenger.server.services.sql<{ id: string }[]>`
        select id::text from envelopes where recipient_account_id = ${bob.accountId} order by id`
    ).map((r) => r.id);
    expect(envelopeIds).toHaveLength(2);

    // Mallory's stream is Mallory's: the input has no way to name another device.
    const ws = wsApi(messenger.url, mallory.credential);
    const seen: DeliveredEnvelope[] = [];
    const started = new Promise<void>((resolve) => {
      ws.api.inbox.stream.subscribe({ lastEventId: null }, { onStarted: () => resolve(), onData: (e) => seen.push(e.data as DeliveredEnvelope) });
    });
    await started;
    await sendOpaque(alice, mallory, 1);
    await expect.poll(() => seen.length).toBe(1);
    expect(seen[0]?.senderAccountId).toBe(alice.accountId);
    ws.close();

    // Acking Bob's envelope ids as Mallory deletes nothing.
    const result = await mallory.api.inbox.ack.mutate({ ids: envelopeIds });
    expect(result.acknowledged).toBe(0);
    const left = await messenger.server.services.sql`select 1 from envelopes where recipient_account_id = ${bob.accountId}`;
    expect(left.length).toBe(2);
  });
});

describe("message.send input", () => {
  it("refuses oversized and non-base64 ciphertext, unknown recipients and receipts forged by clients", async () => {
    const alice = await registerAccount(messenger.url);
    const bob = await registerAccount(messenger.url);
    const send = (input: Record<string, unknown>) =>
      alice.api.message.send.mutate({
        messageId: randomUUID(),
        recipient: { accountId: bob.accountId },
        type: 1,
        content: "AAAA",
        ...input,
      } as never);

    const justRight = Buffer.alloc(64 * 1024, 7).toString("base64");
    await expect(send({ content: justRight })).resolves.toMatchObject({ duplicate: false });
    const oversized = Buffer.alloc(64 * 1024 + 1, 7).toString("base64");
    expect(await rejection(send({ content: oversized }))).toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/content.*at most 65536 bytes/s),
    });
    expect((await rejection(send({ content: "not base64!" }))).message).toMatch(/base64/);
    expect((await rejection(send({ content: "" }))).code).toBe("BAD_REQUEST");
    expect((await rejection(send({ type: 5 }))).code).toBe("BAD_REQUEST");
    expect((await rejection(send({ messageId: "42" }))).message).toMatch(/messageId/);
    expect(await rejection(send({ recipient: { accountId: randomUUID() } }))).toMatchObject({
      code: "NOT_FOUND",
      message: expect.stringMatching(/unknown recipient/),
    });
    expect((await rejection(send({ recipient: { accountId: bob.accountId, deviceId: 2 } }))).code).toBe("NOT_FOUND");
    expect((await rejection(send({ recipient: { accountId: bob.accountId, deviceId: 500 } }))).code).toBe("BAD_REQUEST");
    await stillServing();
  });

  it("a request body over the limit is refused and the server keeps serving", async () => {
    const alice = await registerAccount(messenger.url);
    const response = await fetch(`${messenger.url}/message.send`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${alice.credential}` },
      body: JSON.stringify({ content: "A".repeat(2 * 1024 * 1024) }),
    });
    expect(response.status).toBe(413);
    await stillServing();
  });

  it("out-of-range limits on ack and key upload are refused", async () => {
    const alice = await registerAccount(messenger.url);
    const tooMany = Array.from({ length: 1001 }, (_, i) => String(i + 1));
    expect((await rejection(alice.api.inbox.ack.mutate({ ids: tooMany }))).code).toBe("BAD_REQUEST");
    expect((await rejection(alice.api.inbox.ack.mutate({ ids: [] }))).code).toBe("BAD_REQUEST");
    expect((await rejection(alice.api.inbox.ack.mutate({ ids: ["-1"] }))).message).toMatch(/envelope id/);
    const upload = await alice.signal.generatePreKeys({ oneTimeCount: 100 });
    upload.oneTimePreKeys!.push({ ...upload.oneTimePreKeys![0]!, keyId: 999_999 });
    expect((await rejection(alice.api.keys.upload.mutate(upload))).code).toBe("BAD_REQUEST");
  });

  it("a flood past the send limit is refused with a retry hint, and other devices are unaffected", async () => {
    const alice = await registerAccount(messenger.url);
    const bob = await registerAccount(messenger.url);
    const carol = await registerAccount(messenger.url);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, () =>
        alice.api.message.send.mutate({
          messageId: randomUUID(),
          recipient: { accountId: bob.accountId },
          type: 1,
          content: "AAAA",
        }),
      ),
    );
    const refused = outcomes.filter((o) => o.status === "rejected");
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(20);
    expect(refused).toHaveLength(10);
    const reason = (refused[0] as PromiseRejectedResult).reason as TRPCClientError<never>;
    expect(reason.data).toMatchObject({ code: "TOO_MANY_REQUESTS", retryAfterMs: expect.any(Number) });
    expect(reason.message).toMatch(/rate limit "send" exceeded.*retry in/);
    // Carol has her own bucket.
    await expect(sendOpaque(carol, bob, 1)).resolves.toHaveLength(1);
  });
});

describe("keys", () => {
  it("50 concurrent bundle requests never hand out the same one-time prekey twice", async () => {
    const bob = await registerAccount(messenger.url, { keys: 40 });
    // Ten requesters, five each: within the per-pair limit (prekeysPerPair, 6).
    const requesters = await Promise.all(Array.from({ length: 10 }, () => registerAccount(messenger.url)));
    const bundles = await Promise.all(
      Array.from({ length: 50 }, (_, i) => requesters[i % 10]!.api.keys.bundle.query({ accountId: bob.accountId })),
    );
    const handedOut = bundles.map((b) => b.oneTimePreKey?.keyId).filter((id) => id !== undefined);
    expect(handedOut).toHaveLength(40);
    expect(new Set(handedOut).size).toBe(40);
    expect(bundles.filter((b) => b.oneTimePreKey === null)).toHaveLength(10);
    expect(await bob.api.keys.count.query()).toMatchObject({ oneTimePreKeys: 0 });
  });

  it("refuses an upload whose signatures do not verify", async () => {
    const alice = await registerAccount(messenger.url);
    const upload = await alice.signal.generatePreKeys({ oneTimeCount: 1 });
    const other = await registerAccount(messenger.url);
    const foreign = await other.signal.generatePreKeys({ oneTimeCount: 1 });
    const error = await rejection(alice.api.keys.upload.mutate({ ...upload, signedPreKey: foreign.signedPreKey }));
    expect(error).toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/key upload refused/) });
  });

  it("a bundle for an unknown account or a device without keys is NOT_FOUND", async () => {
    const alice = await registerAccount(messenger.url);
    const keyless = await registerAccount(messenger.url);
    expect((await rejection(alice.api.keys.bundle.query({ accountId: randomUUID() }))).code).toBe("NOT_FOUND");
    expect((await rejection(alice.api.keys.bundle.query({ accountId: keyless.accountId }))).code).toBe("NOT_FOUND");
  });
});
