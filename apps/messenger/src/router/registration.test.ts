/**
 * Phone enumeration and squatting (issue 10, defect 8). Before: 200
 * `account.register` probes in 0.7 s, none limited; registered numbers answered
 * CONFLICT and every other number became the prober's. Now registration needs a
 * code sent to the phone, answers the same for registered and unregistered
 * numbers, is limited per address and globally, and a verified re-registration
 * takes the number over as WhatsApp does. Real server over HTTP and WebSocket
 * (probes from their own loopback address), real PostgreSQL.
 */
import { request } from "node:http";
import { randomUUID } from "node:crypto";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMessenger, type TestMessenger } from "../testing";
import { androidDevice, httpApi, phone, registerAccount, sendOpaque, verifyAndRegister, wsApi } from "../../test/helpers";
import { readEnv } from "../env";
import { rateLimitCatalogue } from "../rate-limits";
import { MAX_CODE_ATTEMPTS } from "../storage/verification";

let messenger: TestMessenger;
beforeAll(async () => {
  messenger = await startTestMessenger();
});
afterAll(async () => {
  await messenger?.close();
});

/** One tRPC mutation over raw HTTP from a chosen loopback source address (the prober's). */
function callFrom(localAddress: string, url: string, path: string, input: unknown): Promise<{ status: number; body: { result?: { data: unknown }; error?: { message: string; data: { code: string } } } }> {
  const target = new URL(`${url}/${path}`);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, path: target.pathname, method: "POST", localAddress, headers: { "content-type": "application/json" } },
      (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as never }));
      },
    );
    req.once("error", reject);
    req.end(JSON.stringify(input));
  });
}

/** The error a call failed with (the test fails if it did not). */
const failure = async (promise: Promise<unknown>): Promise<Error> => {
  const outcome = await promise.then((value) => value, (error: unknown) => error);
  if (!(outcome instanceof Error)) throw new Error("expected the call to fail");
  return outcome;
};
const codeOf = (error: unknown) => (error instanceof TRPCClientError ? (error.data as { code?: string }).code : String(error));
const accountsNow = async () => (await messenger.server.services.sql<{ n: number }[]>`select count(*)::int as n from accounts`)[0]!.n;

describe("registration needs possession of the number", () => {
  it("answers a probe of a registered number exactly as one of a free number, creates nothing, and limits the prober's address", async () => {
    const registered = [await registerAccount(messenger.url), await registerAccount(messenger.url), await registerAccount(messenger.url)];
    const before = await accountsNow();
    const numbers = await Promise.all(
      registered.map(async (a) => (await messenger.server.services.sql<{ phone_number: string }[]>`select phone_number from accounts where id = ${a.accountId}`)[0]!.phone_number),
    );
    // 200 probes; the registered numbers sit at 0, 5 and 10, within the address budget.
    const probes = Array.from({ length: 200 }, () => phone("7"));
    for (const [k, i] of [0, 5, 10].entries()) probes[i] = numbers[k]!;
    const answers: Awaited<ReturnType<typeof callFrom>>[] = [];
    for (const phoneNumber of probes) answers.push(await callFrom("127.0.0.2", messenger.url, "account.requestCode", { phoneNumber }));

    const allowed = rateLimitCatalogue.codePerAddress.capacity;
    const answered = answers.filter((a) => a.status === 200);
    expect(answered).toHaveLength(allowed);
    const shape = (a: (typeof answers)[number]) => ({ ...(a.body.result!.data as Record<string, unknown>), sessionId: "(random)" });
    const forRegistered = [0, 5, 10].map((i) => shape(answers[i]!));
    const forFree = answered.filter((_, i) => ![0, 5, 10].includes(i)).map(shape);
    expect(new Set([...forRegistered, ...forFree].map((a) => JSON.stringify(a))).size).toBe(1);
    expect(forRegistered[0]).toEqual({ sessionId: "(random)", transport: "sms", codeLength: 6, expiresInSeconds: 600 });
    const refused = answers.filter((a) => a.status !== 200);
    expect(refused).toHaveLength(200 - allowed);
    expect(new Set(refused.map((a) => a.body.error!.data.code))).toEqual(new Set(["TOO_MANY_REQUESTS"]));
    expect(refused[0]!.body.error!.message).toMatch(/rate limit "codePerAddress" exceeded/);

    // Nothing was registered, and the owners still hold their numbers.
    expect(await accountsNow()).toBe(before);
    for (const owner of registered) await expect(owner.api.keys.count.query()).resolves.toBeDefined();
    // Another address is not affected by the prober's budget.
    expect((await callFrom("127.0.0.3", messenger.url, "account.requestCode", { phoneNumber: phone("7") })).status).toBe(200);
  });

  it("takes a wrong code at most 5 times per session, then only a new code works, once", async () => {
    const api = httpApi(messenger.url);
    const phoneNumber = phone("6");
    const { sessionId } = await api.account.requestCode.mutate({ phoneNumber });
    const { code } = await api.phoneSimulator.readCode.query({ sessionId });
    const wrong = code === "000000" ? "111111" : "000000";
    const register = (s: string, c: string) => api.account.register.mutate({ sessionId: s, code: c, device: androidDevice });
    for (let attempt = 1; attempt <= MAX_CODE_ATTEMPTS; attempt++) {
      const error = await failure(register(sessionId, wrong));
      expect(codeOf(error)).toBe("BAD_REQUEST");
      expect(error.message).toContain(`wrong code (${MAX_CODE_ATTEMPTS - attempt} attempt`);
    }
    // The right code no longer helps: the session is spent.
    expect((await failure(register(sessionId, code))).message).toMatch(/request a new code/);

    const fresh = await api.account.requestCode.mutate({ phoneNumber });
    const delivered = await api.phoneSimulator.readCode.query({ sessionId: fresh.sessionId });
    expect(delivered).toMatchObject({ phoneNumber, transport: "sms", body: expect.stringMatching(/^Your Handshake code: \d{3}-\d{3}\./) as string });
    const account = await register(fresh.sessionId, delivered.code);
    expect(account).toMatchObject({ phoneNumber, reregistered: false });
    expect((await failure(register(fresh.sessionId, delivered.code))).message).toMatch(/already used/);
    expect(codeOf(await register(randomUUID(), "123456").catch((e: unknown) => e))).toBe("BAD_REQUEST");
  });

  it("lets a new device that proved possession take the number over, as WhatsApp does: old device logged out, its queue and keys gone", async () => {
    const phoneNumber = phone("5");
    const old = await registerAccount(messenger.url, { phoneNumber, keys: 5 });
    const friend = await registerAccount(messenger.url);
    await sendOpaque(friend, old, 2);
    let closed!: () => void;
    const socketClosed = new Promise<void>((resolve) => (closed = resolve));
    const oldSocket = wsApi(messenger.url, old.credential, { onClose: () => closed() });
    await oldSocket.api.keys.count.query(); // authenticated and open

    const taken = await verifyAndRegister(messenger.url, { phoneNumber, device: { ...androidDevice, model: "New phone" } });
    expect(taken).toMatchObject({ accountId: old.accountId, deviceId: 1, phoneNumber, reregistered: true });
    expect(taken.credential).not.toBe(old.credential);
    await socketClosed;
    oldSocket.close();
    expect(codeOf(await old.api.keys.count.query().catch((e: unknown) => e))).toBe("UNAUTHORIZED");
    const fresh = httpApi(messenger.url, taken.credential);
    expect(await fresh.keys.count.query()).toEqual({ oneTimePreKeys: 0, oneTimeKyberPreKeys: 0 });
    const { sql } = messenger.server.services;
    expect((await sql`select 1 from envelopes where recipient_account_id = ${old.accountId}`).length).toBe(0);
    expect((await sql`select model from devices where account_id = ${old.accountId}`).map((r) => r.model)).toEqual(["New phone"]);
    // Nobody else can see the new device's bundle until it publishes keys.
    expect(codeOf(await friend.api.keys.bundle.query({ accountId: old.accountId }).catch((e: unknown) => e))).toBe("NOT_FOUND");
  });

  it("gives one account to a number registered twice at once; exactly one of the two took it over", async () => {
    const phoneNumber = phone("4");
    const both = await Promise.all([verifyAndRegister(messenger.url, { phoneNumber }), verifyAndRegister(messenger.url, { phoneNumber })]);
    expect(both.map((r) => r.reregistered).sort()).toEqual([false, true]);
    expect(both[0].accountId).toBe(both[1].accountId);
    const rows = await messenger.server.services.sql`select id from accounts where phone_number = ${phoneNumber}`;
    expect(rows).toHaveLength(1);
  });
});

describe("registration limits", () => {
  it("caps codes for the whole service across addresses, and keeps every limit across a restart", async () => {
    const limits = { codeGlobal: { capacity: 5, refillPerSecond: 1 / 3600, description: "verification codes sent by the service" } };
    const first = await startTestMessenger({ rateLimits: limits });
    try {
      const statuses = [];
      for (let i = 0; i < 8; i++) statuses.push((await callFrom(`127.0.0.${10 + i}`, first.url, "account.requestCode", { phoneNumber: phone("3") })).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
      await first.server.close();
      const restarted = await startTestMessenger({ rateLimits: limits, databaseUrl: first.databaseUrl });
      try {
        const again = await callFrom("127.0.0.30", restarted.url, "account.requestCode", { phoneNumber: phone("3") });
        expect(again.status).toBe(429);
        expect(again.body.error!.message).toMatch(/rate limit "codeGlobal" exceeded/);
      } finally {
        await restarted.server.close();
      }
    } finally {
      await first.close();
    }
  });
});

describe("the simulated phone network (dev and test only)", () => {
  it("is the default outside production, off by default in production, and refused there", () => {
    expect(readEnv({}).PHONE_CARRIER).toBe("simulated");
    expect(readEnv({ NODE_ENV: "production" }).PHONE_CARRIER).toBe("none");
    expect(() => readEnv({ NODE_ENV: "production", PHONE_CARRIER: "simulated" })).toThrow(/PHONE_CARRIER=simulated .* refused with NODE_ENV=production/);
  });

  it("answers an unknown session with NOT_FOUND, and without a carrier refuses codes and reads with a clear error", async () => {
    expect(codeOf(await httpApi(messenger.url).phoneSimulator.readCode.query({ sessionId: randomUUID() }).catch((e: unknown) => e))).toBe("NOT_FOUND");
    const noCarrier = await startTestMessenger({ phoneCarrier: "none" });
    try {
      const api = httpApi(noCarrier.url);
      const refused = await failure(api.account.requestCode.mutate({ phoneNumber: phone("2") }));
      expect(codeOf(refused)).toBe("PRECONDITION_FAILED");
      expect(refused.message).toMatch(/no phone carrier/);
      const read = await failure(api.phoneSimulator.readCode.query({ sessionId: randomUUID() }));
      expect(codeOf(read)).toBe("FORBIDDEN");
      expect(read.message).toMatch(/simulated phone network is off/);
    } finally {
      await noCarrier.close();
    }
  });
});
