import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Clock } from "../clock";
import { startTestMessenger, type TestMessenger } from "../testing";
import { registerAccount, sendOpaque } from "../../test/helpers";
import { ENVELOPE_TTL_MS, expireOld } from "./queue";

let now = new Date("2016-08-01T12:00:00Z");
const clock: Clock = { now: () => now };
let messenger: TestMessenger;
beforeAll(async () => {
  messenger = await startTestMessenger({ clock });
});
afterAll(async () => {
  await messenger?.close();
});

describe("queue expiry", () => {
  it("undelivered envelopes expire after 30 days; younger ones stay", async () => {
    const alice = await registerAccount(messenger.url);
    const bob = await registerAccount(messenger.url);
    const { sql } = messenger.server.services;
    await sendOpaque(alice, bob, 2);
    now = new Date(now.getTime() + 10 * 24 * 3600 * 1000);
    await sendOpaque(alice, bob, 1);
    const count = async () =>
      (await sql<{ n: number }[]>`select count(*)::int as n from envelopes where recipient_account_id = ${bob.accountId}`)[0]!.n;
    expect(await count()).toBe(3);

    now = new Date(now.getTime() + 20 * 24 * 3600 * 1000 + 1000); // 30 days + 1 s after the first two
    const removed = await expireOld(sql, now);
    expect(removed.envelopes).toBe(2);
    expect(await count()).toBe(1);

    now = new Date(now.getTime() + ENVELOPE_TTL_MS);
    await expireOld(sql, now);
    expect(await count()).toBe(0);
    // The idempotency record goes with the same horizon.
    const accepted = await sql`select 1 from accepted_messages where sender_account_id = ${alice.accountId}`;
    expect(accepted.length).toBe(0);
  });
});
