/**
 * The share pipeline's outbox, against a real messenger and PostgreSQL: usage
 * events at the design's granularity (a day's first message, milestones), and
 * per-account snapshot order that an opt-out racing a message batch cannot invert.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimClock } from "../clock";
import { startTestMessenger, type TestMessenger } from "../testing";
import { registerAccount, type TestAccount } from "../../test/helpers";
import { USAGE_MILESTONES, usageEventDue } from "./pipeline";

let messenger: TestMessenger;
// Accounts are registered before the 2016 change (newcomers get no share choice), then the clock moves past it.
const clock = new SimClock(new Date("2016-08-20T09:00:00Z"));
const RACING_ACCOUNTS = 300;
const pairs: [TestAccount, TestAccount][] = [];
const racing: TestAccount[] = [];

beforeAll(async () => {
  messenger = await startTestMessenger({ rateLimits: false, clock, regime: "optout-2016" });
  for (let i = 0; i < 2; i++) pairs.push([await registerAccount(messenger.url), await registerAccount(messenger.url)]);
  for (let i = 0; i <= RACING_ACCOUNTS; i += 25) {
    racing.push(...(await Promise.all(Array.from({ length: Math.min(25, RACING_ACCOUNTS + 1 - i) }, () => registerAccount(messenger.url)))));
  }
  clock.set(new Date("2016-08-26T09:00:00Z"));
}, 180_000);
afterAll(async () => {
  await messenger?.close();
});

const send = (from: TestAccount, to: TestAccount) =>
  from.api.message.send.mutate({
    messageId: randomUUID(),
    recipient: { accountId: to.accountId },
    type: 1,
    content: Buffer.from("opaque").toString("base64"),
  });

async function events(accountId: string) {
  return messenger.server.services.sql<{ kind: string; sequence: string; payload: { fields: Record<string, { value: unknown; purposes: string[] }> } }[]>`
    select kind, sequence, payload from share_outbox where account_id = ${accountId} order by sequence`;
}

async function sharingPair(): Promise<[TestAccount, TestAccount]> {
  const [a, b] = pairs.pop()!;
  for (const who of [a, b]) await who.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true });
  return [a, b];
}

describe("usage events", () => {
  it("are due on a day's first message and when the day's count crosses a milestone, nowhere else", () => {
    expect(usageEventDue(0, 1)).toBe(true);
    expect(usageEventDue(0, 20)).toBe(true);
    expect(usageEventDue(1, 2)).toBe(false);
    expect(usageEventDue(98, 99)).toBe(false);
    expect(usageEventDue(99, 100)).toBe(true);
    expect(usageEventDue(100, 101)).toBe(false);
    expect(usageEventDue(50, 1_500)).toBe(true);
    expect(USAGE_MILESTONES[0]).toBe(100);
  });

  it("20 messages in a day, sent one by one and in bursts, write one usage event", async () => {
    const [a, b] = await sharingPair();
    for (let i = 0; i < 10; i++) await send(a, b);
    await Promise.all(Array.from({ length: 10 }, () => send(a, b)));
    const usage = (await events(a.accountId)).filter((e) => e.kind === "usage");
    expect(usage).toHaveLength(1);
    const [counters] = await messenger.server.services.sql<{ messages_today: number; messages_total: string }[]>`
      select messages_today, messages_total from usage_counters where account_id = ${a.accountId}`;
    expect(counters).toEqual({ messages_today: 20, messages_total: "20" });
  });

  it("the 100th message of a day writes the milestone event, and the next day's first message another", async () => {
    const [a, b] = await sharingPair();
    for (let round = 0; round < 11; round++) await Promise.all(Array.from({ length: 10 }, () => send(a, b)));
    const usage = () => events(a.accountId).then((rows) => rows.filter((e) => e.kind === "usage"));
    expect(await usage()).toHaveLength(2); // first message, then crossing 100 (at 110 messages)
    clock.advance(24 * 3600_000);
    for (let i = 0; i < 5; i++) await send(a, b);
    const after = await usage();
    expect(after).toHaveLength(3);
    const last = after[after.length - 1]!.payload.fields;
    expect(last.messagesSentCount?.value).toMatchObject({ today: 1, total: 111 });
  });
});

describe("snapshot order per account", () => {
  it(
    "an opt-out racing a message batch is never followed by a snapshot that still grants ads or product",
    async () => {
      const recipient = racing[0]!;
      const accounts = racing.slice(1);
      for (let i = 0; i < racing.length; i += 25) {
        await Promise.all(racing.slice(i, i + 25).map((a) => a.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true })));
      }
      // A new day: every account's next message is its first of the day and writes a usage snapshot.
      clock.advance(24 * 3600_000);
      // Fill the consent cache with the pre-opt-out state (what a stale snapshot would use).
      await messenger.server.services.consent.getMany(accounts.map((a) => a.accountId));
      // In waves of 60 accounts (420 requests at once stay within the listen backlog).
      for (let i = 0; i < accounts.length; i += 60) {
        await Promise.all(
          accounts.slice(i, i + 60).map((a) =>
            Promise.all([
              ...Array.from({ length: 6 }, () => send(a, recipient)),
              a.api.settings.setShareAccountInfo.mutate({ shareWithFacebook: false }),
            ]),
          ),
        );
      }

      const newest = await messenger.server.services.sql<{ account_id: string; kind: string; payload: { fields: Record<string, { purposes: string[] }> } }[]>`
        select distinct on (account_id) account_id, kind, payload from share_outbox
        where account_id = any(${messenger.server.services.sql.array(accounts.map((a) => a.accountId))}::uuid[])
        order by account_id, sequence desc`;
      expect(newest).toHaveLength(RACING_ACCOUNTS);
      const granting = newest.filter((e) => Object.values(e.payload.fields).some((f) => f.purposes.includes("ads") || f.purposes.includes("product")));
      expect(granting.map((e) => `${e.account_id} (${e.kind})`)).toEqual([]);
      // Every account has its opt-out and its usage snapshot, numbered 1, 2, 3 ... without repeats.
      const perAccount = await messenger.server.services.sql<{ account_id: string; sequences: string[]; kinds: string[] }[]>`
        select account_id, array_agg(sequence order by sequence)::text[] as sequences, array_agg(kind order by sequence) as kinds
        from share_outbox where account_id = any(${messenger.server.services.sql.array(accounts.map((a) => a.accountId))}::uuid[])
        group by account_id`;
      for (const row of perAccount) {
        expect(row.kinds).toContain("consent");
        expect(row.kinds).toContain("usage");
        expect(new Set(row.sequences).size).toBe(row.sequences.length);
      }
    },
    120_000,
  );
});
