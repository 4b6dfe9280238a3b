/**
 * ConsentStore.record serialises choices for one account on the account's row lock
 * (`select … for update`, now a drizzle query): racing identical business choices
 * record one event, the rest see it and record nothing. Real server, real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMessenger, type TestMessenger } from "../testing";
import { registerAccount } from "../../test/helpers";

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
