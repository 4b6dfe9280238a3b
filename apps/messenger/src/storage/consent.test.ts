/**
 * ConsentStore.record serialises choices for one account on the account's row lock
 * (`select … for update`, now a drizzle query): racing identical business choices
 * record one event, the rest see it and record nothing. ConsentStore.get loads one
 * account once however many calls miss together, and never keeps a load that an
 * invalidation overtook. Real server, real PostgreSQL.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMessenger, type TestMessenger } from "../testing";
import { registerAccount } from "../../test/helpers";
import { businessChoice } from "@handshake/consent";
import { ConsentStore } from "./consent";

let messenger: TestMessenger;
beforeAll(async () => {
  messenger = await startTestMessenger({ rateLimits: false });
});
afterAll(async () => messenger?.close());

describe("ConsentStore.record", () => {
  it("records one event for 8 racing identical choices of one account", async () => {
    const customer = await registerAccount(messenger.url);
    const bank = await registerAccount(messenger.url, { business: "Racing Bank" });
    const { consent, clock, sql } = messenger.server.services;
    // Every pool connection open first, so the racers really run side by side.
    await Promise.all(Array.from({ length: 4 }, () => sql`select pg_sleep(0.05)`));
    const results = await Promise.all(
      Array.from({ length: 8 }, () => consent.record(customer.accountId, { kind: "business-blocked", businessAccountId: bank.accountId }, clock.now())),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from consent_events where account_id = ${customer.accountId} and kind = 'business-blocked'`;
    expect(row?.n).toBe(1);
  });
});

describe("ConsentStore.get and fresh", () => {
  /** A store of its own over a pool that counts the statements it sends. */
  function countingStore(cacheTtlMs?: number, connections = 4) {
    const counter = { statements: 0 };
    const sql = postgres(messenger.databaseUrl, { max: connections, onnotice: () => {}, debug: (_connection, query) => {
        // postgres.js reads the array types once per pool: not the store's doing.
        if (!query.includes("pg_catalog")) counter.statements += 1;
      },
    });
    const { regime, timeline } = messenger.server.services;
    const store = new ConsentStore(sql, { regimeAt: (at) => regime.at(at), timeline }, cacheTtlMs ? { cacheTtlMs } : {});
    return { store, counter, sql, close: () => sql.end() };
  }

  it("answers 50 concurrent misses of one account with one load (two statements), not fifty", async () => {
    const { accountId } = await registerAccount(messenger.url);
    const { store, counter, close } = countingStore(5_000);
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, () => store.get(accountId)));
      expect(new Set(answers.map((a) => a.account.id))).toEqual(new Set([accountId]));
      expect(counter.statements).toBe(2); // accounts + consent_events
    } finally {
      await close();
    }
  });

  it("answers a fresh entry without a promise, never a stale one: past the TTL get serves it while one load refreshes it", async () => {
    const customer = await registerAccount(messenger.url);
    const bank = await registerAccount(messenger.url, { business: "Stale Bank" });
    const ttlMs = 300;
    const { store, counter, close } = countingStore(ttlMs);
    try {
      expect(store.fresh(customer.accountId)).toBeUndefined(); // never loaded
      const first = await store.get(customer.accountId);
      expect(counter.statements).toBe(2); // one load: accounts and consent_events, sent together
      expect(store.fresh(customer.accountId)).toBe(first);

      // Another node records a block, and its announcement is lost: this node keeps its entry until the TTL.
      const { consent, clock } = messenger.server.services;
      await consent.record(customer.accountId, { kind: "business-blocked", businessAccountId: bank.accountId }, clock.now());
      expect(businessChoice(store.fresh(customer.accountId)!.state, bank.accountId).blocked).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, ttlMs + 50));

      // Stale: the synchronous path declines it; get answers it at once and refreshes it, once for many callers.
      expect(store.fresh(customer.accountId)).toBeUndefined();
      const during = await Promise.all(Array.from({ length: 10 }, () => store.get(customer.accountId)));
      expect(during.every((answer) => !businessChoice(answer.state, bank.accountId).blocked)).toBe(true);
      await expect.poll(() => store.fresh(customer.accountId) && businessChoice(store.fresh(customer.accountId)!.state, bank.accountId).blocked).toBe(true);
      expect(counter.statements).toBe(4);
    } finally {
      await close();
    }
  });

  it("getMany reads a stale entry again instead of serving it (the relay's service gate asks it)", async () => {
    const customer = await registerAccount(messenger.url);
    const bank = await registerAccount(messenger.url, { business: "Gate Bank" });
    const ttlMs = 300;
    const { store, counter, close } = countingStore(ttlMs);
    try {
      const before = await store.getMany([customer.accountId]);
      expect(businessChoice(before.get(customer.accountId)!, bank.accountId).blocked).toBe(false);
      expect(counter.statements).toBe(2);
      expect((await store.getMany([customer.accountId])).get(customer.accountId)).toBe(before.get(customer.accountId));
      expect(counter.statements).toBe(2); // fresh: from the cache
      // A choice through another node whose announcement never came.
      const { consent, clock } = messenger.server.services;
      await consent.record(customer.accountId, { kind: "business-blocked", businessAccountId: bank.accountId }, clock.now());
      await new Promise((resolve) => setTimeout(resolve, ttlMs + 50));
      const after = await store.getMany([customer.accountId]);
      expect(businessChoice(after.get(customer.accountId)!, bank.accountId).blocked).toBe(true);
      expect(counter.statements).toBe(4);
    } finally {
      await close();
    }
  });

  it("reads again, for every waiting call, when the account is invalidated while its load runs, and serves the state recorded since", async () => {
    const customer = await registerAccount(messenger.url);
    const bank = await registerAccount(messenger.url, { business: "Invalidated Bank" });
    const { store, counter, sql, close } = countingStore(5_000, 1);
    try {
      // The store's only connection is busy, so the load below stays in flight.
      const busy = sql`select pg_sleep(0.4)`;
      // Ten calls wait on that one load (sends of one account racing the announcement).
      const waiting = Promise.all(Array.from({ length: 10 }, () => store.get(customer.accountId)));
      // Meanwhile another node records a block and announces it.
      const { consent, clock } = messenger.server.services;
      await consent.record(customer.accountId, { kind: "business-blocked", businessAccountId: bank.accountId }, clock.now());
      store.invalidate(customer.accountId);
      await busy;
      // Every waiter, not only the one that started the load, reads again and sees the block.
      const answers = await waiting;
      expect(answers.every(({ state }) => businessChoice(state, bank.accountId).blocked)).toBe(true);
      // pg_sleep, the overtaken load (2) and the one load after the invalidation (2), shared.
      expect(counter.statements).toBe(5);
      // That one is cached: no further statement.
      await store.get(customer.accountId);
      expect(counter.statements).toBe(5);
    } finally {
      await close();
    }
  });
});
