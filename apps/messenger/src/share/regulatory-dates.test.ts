/**
 * Regulators' dates passed by simulated time flowing at run speed (no clock move):
 * the server's periodic check writes the withdrawal for German accounts once.
 */
import { afterAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import { regimeFor } from "@handshake/consent";
import { RegimeHistory } from "../storage/regimes";
import { saveSimClock } from "../storage/clock";
import { startTestMessenger, type TestMessenger } from "../testing";
import { registerAccount } from "../../test/helpers";
import { RegulatoryWatch } from "./regulatory-dates";

let messenger: TestMessenger | null = null;
const others: TestMessenger[] = [];
afterAll(async () => {
  await messenger?.close();
  for (const other of others) await other.close();
});

const AFTER_HAMBURG = new Date("2016-09-28T00:00:00Z");

/** The regime events written for the Hamburg order (at or after 2016-09-27). */
function hamburgEvents(sql: postgres.Sql) {
  return sql<{ account_id: string; payload: { fields: object } }[]>`
    select account_id, payload from share_outbox where kind = 'regime' and occurred_at >= '2016-09-27' order by id`;
}

/** A messenger a week before the Hamburg order with a German and an Indian account that shared. */
async function beforeHamburg(): Promise<{ messenger: TestMessenger; germanId: string }> {
  const started = await startTestMessenger({ simStart: new Date("2016-09-20T00:00:00Z"), rateLimits: false });
  others.push(started);
  const german = await registerAccount(started.url, { phoneNumber: "+4915199000017" });
  const indian = await registerAccount(started.url, { phoneNumber: "+919810000017" });
  for (const who of [german, indian]) await who.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true });
  return { messenger: started, germanId: german.accountId };
}

describe("RegulatoryWatch", () => {
  it("writes an empty snapshot for a German account when time flows past 2016-09-27, once", async () => {
    // Two seconds before the Hamburg order; the sim clock then runs at real speed.
    messenger = await startTestMessenger({ simStart: new Date("2016-09-26T23:59:58Z"), rateLimits: false });
    const german = await registerAccount(messenger.url, { phoneNumber: "+4915199000007" });
    const indian = await registerAccount(messenger.url, { phoneNumber: "+919810000007" });
    for (const who of [german, indian]) await who.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true });
    const { sql } = messenger.server.services;
    const regimeEvents = () =>
      sql<{ account_id: string; payload: { fields: object } }[]>`
        select account_id, payload from share_outbox where kind = 'regime' and occurred_at >= '2016-09-27'`;
    await expect.poll(async () => (await regimeEvents()).length, { timeout: 15_000, interval: 200 }).toBe(1);
    const [event] = await regimeEvents();
    expect(event).toEqual({ account_id: german.accountId, payload: { fields: {} } });
    // Later checks (periodic or a clock move) do not write it again.
    await messenger.server.services.regulatory.check(new Date("2016-09-28T00:00:00Z"));
    expect(await regimeEvents()).toHaveLength(1);
  });

  it("a dated spec switched at run time survives a reload (its dates come back as dates)", async () => {
    const { sql, share, clock } = messenger!.server.services;
    const spec = { base: "optout-2016" as const, dated: [{ from: new Date("2016-10-01T00:00:00Z"), regime: "none" as const, countries: ["FR"] }] };
    await share.switchRegime(spec, clock.now());
    const reloaded = await RegimeHistory.load(sql, "none");
    expect(regimeFor(reloaded.current, "FR", new Date("2016-09-30T00:00:00Z"))).toBe("optout-2016");
    expect(regimeFor(reloaded.current, "FR", new Date("2016-10-01T00:00:00Z"))).toBe("none");
  });

  it("a restart with the clock already past 2016-09-27 applies the order on start, and a second restart changes nothing", async () => {
    const { messenger: first, germanId } = await beforeHamburg();
    const { databaseUrl } = first;
    await first.server.close();
    // The service is down while simulated time passes the Hamburg order.
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await saveSimClock(sql, { simMs: AFTER_HAMBURG.getTime(), realMs: Date.now() });
      expect(await hamburgEvents(sql)).toHaveLength(0);

      const second = await startTestMessenger({ databaseUrl, rateLimits: false });
      others.push(second);
      // Written during start-up, before the server listens: no poll needed.
      expect(await hamburgEvents(sql)).toEqual([{ account_id: germanId, payload: { fields: {} } }]);
      await second.server.close();

      const third = await startTestMessenger({ databaseUrl, rateLimits: false });
      others.push(third);
      expect(await third.server.services.regulatory.check(new Date("2016-12-31T00:00:00Z"))).toBe(0);
      expect(await hamburgEvents(sql)).toHaveLength(1);
      const [progress] = await sql<{ done: boolean }[]>`select done from regulatory_dates where scope = 'DE'`;
      expect(progress?.done).toBe(true);
      await third.server.close();
    } finally {
      await sql.end();
    }
  });

  it("two watches (two nodes) checking the same date at once write the withdrawal once", async () => {
    const { messenger: node, germanId } = await beforeHamburg();
    const { sql, consent, regime } = node.server.services;
    const watches = [0, 1, 2].map(() => new RegulatoryWatch(sql, consent, (at) => regime.at(at)));
    const written = await Promise.all(watches.map((w) => w.check(AFTER_HAMBURG)));
    expect(written.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await hamburgEvents(sql)).toEqual([{ account_id: germanId, payload: { fields: {} } }]);
  });

  it("a page that fails (the database errs mid-way) leaves nothing half-done: the next check writes the withdrawal once", async () => {
    const { messenger: node, germanId } = await beforeHamburg();
    const { sql, consent, regime } = node.server.services;
    let failures = 1;
    // The consent store is real; its first read inside the page's transaction fails as a dropped connection would.
    const flaky = Object.create(consent) as typeof consent;
    flaky.readStates = (tx, ids) => (failures-- > 0 ? Promise.reject(new Error("connection terminated")) : consent.readStates(tx, ids));
    const watch = new RegulatoryWatch(sql, flaky, (at) => regime.at(at));
    await expect(watch.check(AFTER_HAMBURG)).rejects.toThrow("connection terminated");
    expect(await hamburgEvents(sql)).toEqual([]);
    const [progress] = await sql<{ done: boolean }[]>`select done from regulatory_dates where scope = 'DE'`;
    expect(progress?.done).toBe(false);
    expect(await watch.check(AFTER_HAMBURG)).toBe(1);
    expect(await watch.check(AFTER_HAMBURG)).toBe(0);
    expect(await hamburgEvents(sql)).toEqual([{ account_id: germanId, payload: { fields: {} } }]);
  });

  it("a regime switched on after its dates replays them with today's state: the German account's newest snapshot stays empty", async () => {
    const started = await startTestMessenger({ simStart: new Date("2016-08-26T00:00:00Z"), regime: "optout-2016", rateLimits: false });
    others.push(started);
    const german = await registerAccount(started.url, { phoneNumber: "+4915199000027" });
    await german.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true });
    const { sql, share, clock, regulatory } = started.server.services;
    (clock as unknown as { set(at: Date): void }).set(AFTER_HAMBURG);
    await share.switchRegime("historical-2016", clock.now());
    // 2016-08-25 and 2016-09-27 of historical-2016 have not been handled yet: the next check handles both.
    expect(await regulatory.check(new Date(AFTER_HAMBURG.getTime() + 86_400_000))).toBeGreaterThan(0);
    const [newest] = await sql<{ payload: { fields: object } }[]>`
      select payload from share_outbox where account_id = ${german.accountId} order by sequence desc limit 1`;
    expect(newest?.payload.fields).toEqual({});
  });
});

