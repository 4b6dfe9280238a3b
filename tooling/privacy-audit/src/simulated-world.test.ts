/**
 * The audit on the world `pnpm dev` runs: the seeded world (tooling/simulator) on a
 * real messenger and Facebook side shipping share events to each other, driven by
 * the simulator at 3 simulated days per real second from the eve of the new terms
 * for 34 simulated days (past the Hamburg order). Every
 * check passes and had rows to judge; a German account's data planted at Facebook
 * afterwards fails the ban check, so the pass is this world's, not an empty one's.
 */
import type postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawClient } from "@handshake/db/client";
import { freePort } from "@handshake/db/embedded";
import { createTestDatabase } from "@handshake/db/testing";
import { startTestFacebook, type TestFacebook } from "@handshake/facebook/testing";
import { startTestMessenger, TEST_ADMIN_TOKEN, TEST_SERVICE_TOKEN, type TestMessenger } from "@handshake/messenger/testing";
import { parseSpeed, seedWorldOnce, Simulator, WORLD_START } from "@handshake/simulator";
import { runPrivacyAudit, type AuditReport } from "./audit";

/** From the eve of the new terms (2016-08-24 23:00) past Hamburg's order (2016-09-27). */
const DAYS = 34;
const UNTIL = new Date(WORLD_START.getTime() + DAYS * 86_400_000);

let messenger: TestMessenger;
let facebook: TestFacebook;
let simulator: Simulator | null = null;
let facebookSql: postgres.Sql;
let messengerSql: postgres.Sql;
let drop: () => Promise<void> = async () => {};

async function until(what: string, ms: number, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  const messengerDb = await createTestDatabase("messenger");
  const facebookDb = await createTestDatabase("facebook");
  drop = async () => {
    await messengerDb.drop();
    await facebookDb.drop();
  };
  await seedWorldOnce({ messengerDatabaseUrl: messengerDb.url, facebookDatabaseUrl: facebookDb.url });
  const facebookPort = await freePort();
  messenger = await startTestMessenger({ databaseUrl: messengerDb.url, facebookUrl: `http://127.0.0.1:${facebookPort}/trpc` });
  facebook = await startTestFacebook({
    databaseUrl: facebookDb.url,
    port: facebookPort,
    adminToken: TEST_ADMIN_TOKEN,
    serviceToken: TEST_SERVICE_TOKEN,
    messengerUrl: messenger.url,
    clock: messenger.server.services.clock,
  });
  simulator = new Simulator({
    messengerUrl: messenger.url,
    adminToken: TEST_ADMIN_TOKEN,
    speed: parseSpeed("3d/s"),
    liveDevices: 12,
    businesses: 2,
    messageBudgetPerSecond: 15,
    consentConcurrency: 8,
    tickMs: 100,
    // Advertisers upload customer lists too: what Facebook answers them is audited.
    facebookUrl: facebook.url,
    log: () => {},
  });
  await simulator.start();
  await until(`the clock past ${UNTIL.toISOString()}`, 240_000, () => Date.parse(simulator!.stats.clock ?? "0") > UNTIL.getTime());
  await until("every consent call", 120_000, () => simulator!.stats.consent.pending === 0);
  await simulator.stop();
  await messenger.server.services.share.shipper!.drained();
  facebookSql = rawClient(facebookDb.url, { max: 2 });
  messengerSql = rawClient(messengerDb.url, { max: 2 });
}, 480_000);

afterAll(async () => {
  await simulator?.stop();
  await facebookSql?.end({ timeout: 5 });
  await messengerSql?.end({ timeout: 5 });
  await messenger?.server.close();
  await facebook?.server.close();
  await drop();
});

const audit = () => runPrivacyAudit({ messengerUrl: messenger.databaseUrl, facebookUrl: facebook.databaseUrl });
const failed = (report: AuditReport) => report.checks.filter((c) => c.verdict === "fail").map((c) => c.id);

describe(`the privacy audit on the simulated world after ${DAYS} simulated days`, () => {
  it("passes every check, on a world where people messaged, chose and shared", async () => {
    const s = simulator!.stats;
    expect(s.messages.received).toBeGreaterThan(50);
    const [consent] = await messengerSql<{ accepted: number; unticked: number }[]>`
      select count(*) filter (where kind = 'terms-accepted')::int as accepted,
             count(*) filter (where kind = 'terms-accepted' and share_with_facebook = false)::int as unticked
      from consent_events`;
    expect(consent!.accepted).toBeGreaterThan(1000);
    const [held] = await facebookSql<{ accounts: number }[]>`select count(distinct whatsapp_account_id)::int as accounts from shared_data`;
    expect(held!.accounts).toBeGreaterThan(500);

    const report = await audit();
    const failures = report.checks.filter((c) => c.verdict === "fail");
    // On a failure, the share events of the accounts named, to tell a race from a rule broken.
    const named = [...new Set(failures.flatMap((c) => c.examples.map((b) => /account ([0-9a-f-]{36})/.exec(b.row)?.[1])).filter(Boolean))] as string[];
    const events = named.length
      ? await messengerSql`select account_id, sequence, kind, occurred_at, shipped_at, jsonb_object_keys(payload->'fields') as field
          from share_outbox where account_id = any(${messengerSql.array(named.slice(0, 3))}::uuid[]) order by account_id, sequence`
      : [];
    expect(failed(report), JSON.stringify({ failures, events }, null, 2)).toEqual([]);
    expect(report.breaches).toBe(0);
    // Every check had something to judge, the advertisers' answers included.
    expect(simulator!.stats.advertisers?.lists ?? 0).toBeGreaterThan(0);
    for (const c of report.checks) expect(c.examined, c.id).toBeGreaterThan(0);
  });

  it("German accounts hold nothing at Facebook after 2016-09-27, and a planted German row fails the ban check", async () => {
    const [german] = await messengerSql<{ id: string }[]>`
      select distinct a.id from accounts a join consent_events e on e.account_id = a.id
      where a.country = 'DE' and e.kind = 'terms-accepted' order by a.id limit 1`;
    expect(german, "a German account of the world accepted the terms").toBeDefined();
    const [holding] = await facebookSql<{ n: number }[]>`
      select count(*)::int as n from shared_data where whatsapp_account_id in
        (select unnest(${facebookSql.array((await messengerSql<{ id: string }[]>`select id from accounts where country = 'DE'`).map((r) => r.id))}::uuid[]))`;
    expect(holding!.n).toBe(0);

    await facebookSql`insert into shared_data (whatsapp_account_id, field, value, purposes, shared_at, sequence)
      values (${german!.id}, 'country', ${facebookSql.json("DE")}, ${facebookSql.array(["spam"])}::text[], ${UNTIL}, 999999)`;
    try {
      const report = await audit();
      expect(failed(report)).toContain("nothing-under-ban");
      expect(report.checks.find((c) => c.id === "nothing-under-ban")!.examples.map((b) => b.row).join(" ")).toContain(german!.id);
    } finally {
      await facebookSql`delete from shared_data where whatsapp_account_id = ${german!.id}`;
    }
  });
});
