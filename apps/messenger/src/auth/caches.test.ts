/**
 * The credential and restriction caches (issue 14, item 6): bounded LRU caches
 * that never serve a replaced credential or a changed restriction beyond their
 * documented bound. Two instances over one real database stand for two nodes;
 * time is injected so the bound is checked exactly.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMessenger, type TestMessenger } from "../testing";
import { registerAccount } from "../../test/helpers";
import { RestrictionStore, RESTRICTION_CACHE_TTL_MS } from "../storage/restrictions";
import { Authenticator, CREDENTIAL_CACHE_TTL_MS } from "./authenticate";
import { hashSecret, issueCredential } from "./credentials";

let messenger: TestMessenger;
beforeAll(async () => {
  messenger = await startTestMessenger({ rateLimits: false });
});
afterAll(async () => {
  await messenger?.close();
});

describe("credential cache", () => {
  it("refuses a replaced credential at once where it was revoked, and on another node within the TTL", async () => {
    const { sql } = messenger.server.services;
    let now = 1_000;
    const nodeA = new Authenticator(sql, { now: () => now });
    const nodeB = new Authenticator(sql, { now: () => now });
    const account = await registerAccount(messenger.url);
    const device = { accountId: account.accountId, deviceId: 1 };
    expect(await nodeA.authenticate(account.credential)).toEqual({ ok: true, device });
    expect(await nodeB.authenticate(account.credential)).toEqual({ ok: true, device });

    // The device's credential is replaced (a new device took over the number).
    const replacement = issueCredential(device);
    await sql`update devices set credential_hash = ${replacement.hash} where account_id = ${device.accountId} and device_id = 1`;
    nodeA.revoke(device);
    expect(await nodeA.authenticate(account.credential)).toMatchObject({ ok: false });
    // The new credential works everywhere at once, and evicts the old one where it was cached.
    expect(await nodeB.authenticate(replacement.credential)).toEqual({ ok: true, device });
    expect(await nodeB.authenticate(account.credential)).toMatchObject({ ok: false });

    // A node that saw no revocation and no new credential accepts the old one until the TTL, never after.
    const nodeC = new Authenticator(sql, { now: () => now });
    await sql`update devices set credential_hash = ${hashSecret(account.credential.split(".")[2]!)} where account_id = ${device.accountId}`;
    expect(await nodeC.authenticate(account.credential)).toEqual({ ok: true, device });
    await sql`update devices set credential_hash = ${replacement.hash} where account_id = ${device.accountId}`;
    now += CREDENTIAL_CACHE_TTL_MS - 1;
    expect(await nodeC.authenticate(account.credential)).toEqual({ ok: true, device });
    now += 2; // even though it was used meanwhile: reads do not extend the entry
    expect(await nodeC.authenticate(account.credential)).toMatchObject({ ok: false });
  });

  it("does not cache a credential read that a revoke overtook: the revoked credential is refused at once", async () => {
    const { sql } = messenger.server.services;
    const account = await registerAccount(messenger.url);
    const device = { accountId: account.accountId, deviceId: 1 };
    // The device's database, whose answers wait at a gate: the read runs, its answer is held.
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let answered!: () => void;
    const read = new Promise<void>((resolve) => (answered = resolve));
    const held = new Proxy(sql, {
      apply: (target, self, args: Parameters<typeof sql>) =>
        (Reflect.apply(target, self, args) as unknown as Promise<unknown>).then(async (rows) => {
          answered();
          await gate;
          return rows;
        }),
    });
    const auth = new Authenticator(sql, { sqlFor: () => held });
    const first = auth.authenticate(account.credential);
    await read; // it read the old hash
    // Meanwhile the credential is replaced (registration on a new phone) and revoked on this node.
    const replacement = issueCredential(device);
    await sql`update devices set credential_hash = ${replacement.hash} where account_id = ${device.accountId} and device_id = 1`;
    auth.revoke(device);
    openGate();
    expect(await first).toEqual({ ok: true, device }); // it began before the revoke
    // The node that revoked it must not accept the old credential from its cache now.
    expect(await auth.authenticate(account.credential)).toMatchObject({ ok: false });
  });

  it("evicts the least recently used device when full instead of forgetting every device", async () => {
    const { sql } = messenger.server.services;
    const auth = new Authenticator(sql, { max: 3 });
    const accounts = [];
    for (let i = 0; i < 4; i++) accounts.push(await registerAccount(messenger.url));
    for (const account of accounts) expect((await auth.authenticate(account.credential)).ok).toBe(true);
    expect(auth.size).toBe(3);
  });
});

describe("restriction cache", () => {
  it("applies a restriction recorded on this node at once, and one recorded on another node within the TTL", async () => {
    const { sql } = messenger.server.services;
    let now = 1_000;
    const nodeA = new RestrictionStore(sql, { now: () => now });
    const nodeB = new RestrictionStore(sql, { now: () => now });
    const { accountId } = await registerAccount(messenger.url);
    expect(await nodeA.current(accountId)).toBeNull();
    expect(await nodeB.current(accountId)).toBeNull();

    await nodeA.record(accountId, "suspend", "spam", "test", new Date("2016-09-01T00:00:00Z"));
    expect(await nodeA.current(accountId)).toMatchObject({ action: "suspend" });
    now += RESTRICTION_CACHE_TTL_MS - 1;
    expect(await nodeB.current(accountId)).toBeNull();
    now += 2;
    expect(await nodeB.current(accountId)).toMatchObject({ action: "suspend" });

    await nodeB.record(accountId, "clear", "appeal", "test", new Date("2016-09-02T00:00:00Z"));
    now += RESTRICTION_CACHE_TTL_MS + 1;
    expect(await nodeA.current(accountId)).toBeNull();
  });

  it("answers more accounts loading at once than it holds, each with its own restriction (evicted loads do not spin)", async () => {
    const { sql } = messenger.server.services;
    const recorder = new RestrictionStore(sql);
    const suspended = await registerAccount(messenger.url);
    const throttled = await registerAccount(messenger.url);
    await recorder.record(suspended.accountId, "suspend", "spam", "test", new Date("2016-09-01T00:00:00Z"));
    await recorder.record(throttled.accountId, "throttle", "spam", "test", new Date("2016-09-01T00:00:00Z"));
    // A node whose cache holds 10 accounts, asked about 60 at once.
    const small = new RestrictionStore(sql, { max: 10 });
    const others = Array.from({ length: 58 }, () => randomUUID());
    const ids = [suspended.accountId, ...others, throttled.accountId];
    const answers = await Promise.all(ids.map((id) => small.current(id)));
    expect(answers[0]).toMatchObject({ action: "suspend" });
    expect(answers.at(-1)).toMatchObject({ action: "throttle" });
    expect(answers.slice(1, -1).every((answer) => answer === null)).toBe(true);
  });
});
