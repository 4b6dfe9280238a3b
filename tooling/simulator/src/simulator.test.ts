/**
 * The simulator against a real messenger on a real PostgreSQL, on the seeded
 * world: messages are relayed and acked between real libsignal devices over
 * WebSockets, and the consent choices recorded as the clock passes 2016-08-25
 * are each person's own and in the model's proportions.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseShardMap } from "@handshake/db/messenger-shards";
import { migrateDatabase } from "@handshake/db/migrate";
import { createTestDatabase } from "@handshake/db/testing";
import { startTestMessenger, TEST_ADMIN_TOKEN, type TestMessenger } from "@handshake/messenger/testing";
import { DEFAULT_COUNTRIES, userCoreAt } from "@handshake/population";
import { sampleIdentity } from "@handshake/seed";
import { Simulator } from "./simulator";
import { parseSpeed } from "./speed";
import { seedWorldOnce, WORLD_SPEC, worldAccountsPresent, worldUserIds } from "./world";

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("the seeded world", () => {
  it("is seeded once: a second start finds it and adds nothing", async () => {
    const messenger = await createTestDatabase("messenger");
    const facebook = await createTestDatabase("facebook");
    try {
      expect(await worldAccountsPresent(messenger.url)).toBe(0);
      const first = await seedWorldOnce({ messengerDatabaseUrl: messenger.url, facebookDatabaseUrl: facebook.url });
      expect(first.seeded).toBe(true);
      expect(await worldAccountsPresent(messenger.url)).toBe(worldUserIds().length);
      const second = await seedWorldOnce({ messengerDatabaseUrl: messenger.url, facebookDatabaseUrl: facebook.url });
      expect(second).toEqual({ seeded: false, present: worldUserIds().length });
      const sql = postgres(facebook.url, { max: 1 });
      const [profiles] = await sql<{ n: number }[]>`select count(*)::int as n from profiles`;
      await sql.end();
      expect(profiles!.n).toBeGreaterThan(worldUserIds().length);
    } finally {
      await messenger.drop();
      await facebook.drop();
    }
  }, 120_000);
});

describe("the simulator on the seeded world", () => {
  let messenger: TestMessenger;
  let sql: postgres.Sql;
  let simulator: Simulator;

  beforeAll(async () => {
    const database = await createTestDatabase("messenger");
    await seedWorldOnce({ messengerDatabaseUrl: database.url, facebookDatabaseUrl: null });
    // the real rate limits: the simulator must stay within them
    messenger = await startTestMessenger({ databaseUrl: database.url });
    sql = postgres(database.url, { max: 2 });
    const drop = messenger.close;
    messenger.close = async () => {
      await drop();
      await database.drop();
    };
  }, 120_000);

  afterAll(async () => {
    await simulator?.stop();
    await sql?.end();
    await messenger?.close();
  });

  it("relays messages between live devices and records each person's consent choice as the clock passes the new terms", async () => {
    const stored = async () => (await sql<{ n: number }[]>`select count(*)::int as n from accepted_messages`)[0]!.n;
    const queued = async () => (await sql<{ n: number }[]>`select count(*)::int as n from envelopes where type <> 5`)[0]!.n;
    simulator = new Simulator({
      messengerUrl: messenger.url,
      adminToken: TEST_ADMIN_TOKEN,
      speed: parseSpeed("3d/s"),
      liveDevices: 12,
      businesses: 2,
      messageBudgetPerSecond: 15,
      meanOnlineSeconds: 4,
      meanOfflineSeconds: 2,
      consentConcurrency: 8,
      tickMs: 100,
    });
    await simulator.start();
    expect(simulator.stats.world).toBe("seeded");
    expect(simulator.stats.devices.online).toBe(14);

    // messages flow: stored by the relay, then acked (deleted from the queue) by the recipients
    await until(async () => simulator.stats.messages.received >= 20, 60_000, "20 messages received");
    const storedEarly = await stored();
    await until(async () => (await stored()) > storedEarly + 20, 60_000, "more messages stored");
    // 31 days after the announcement every choice (opt-outs within 30 days of accepting) is due
    await until(() => Date.parse(simulator.stats.clock!) > Date.parse("2016-09-26T00:00:00Z"), 60_000, "the clock past 2016-09-26");
    await until(() => simulator.stats.consent.pending === 0, 150_000, "every consent call");
    await simulator.stop();

    const s = simulator.stats;
    expect(s.messages.sent).toBeGreaterThan(40);
    expect(s.business.transactional + s.business.marketing).toBeGreaterThan(0);
    // acked: what was stored and is no longer queued (offline devices drained when back)
    const total = await stored();
    expect(total).toBeGreaterThan(storedEarly);
    expect(total - (await queued())).toBeGreaterThan(total * 0.5);
    expect(s.refused.TOO_MANY_REQUESTS ?? 0).toBe(0);

    // each person's recorded choice is the one the population gave them
    const identity = sampleIdentity(WORLD_SPEC);
    const byAccount = new Map(worldUserIds().map((id) => [identity.accountId(id), userCoreAt(WORLD_SPEC, id)]));
    const rows = await sql<{ account_id: string; kind: string; share_with_facebook: boolean | null }[]>`
      select account_id, kind, share_with_facebook from consent_events where kind in ('terms-accepted', 'share-opted-out') order by id`;
    const recorded = new Map<string, string[]>();
    for (const row of rows) {
      const label = row.kind === "share-opted-out" ? "opt-out" : row.share_with_facebook ? "ticked" : "unticked";
      recorded.set(row.account_id, [...(recorded.get(row.account_id) ?? []), label]);
    }
    const expected = { accepts: ["ticked"], unticks: ["unticked"], "opts-out-later": ["ticked", "opt-out"] } as Record<string, string[]>;
    const mismatches: string[] = [];
    const counts = { unticks: 0, "opts-out-later": 0, accepts: 0, "never-accepts": 0 };
    const mean = { unticks: 0, "opts-out-later": 0 };
    const variance = { unticks: 0, "opts-out-later": 0 };
    let offered = 0;
    for (const [accountId, user] of byAccount) {
      if (user.business || user.consent === "registered-after") continue;
      offered++;
      const want = expected[user.consent] ?? [];
      if (JSON.stringify(recorded.get(accountId) ?? []) !== JSON.stringify(want)) {
        mismatches.push(`${user.id} ${user.consent} ${user.acceptsAfterDays}/${user.optsOutAfterDays}: ${JSON.stringify(recorded.get(accountId))}`);
      }
      const got = recorded.get(accountId) ?? [];
      if (got[0] === "unticked") counts.unticks++;
      else if (got.includes("opt-out")) counts["opts-out-later"]++;
      else if (got[0] === "ticked") counts.accepts++;
      else counts["never-accepts"]++;
      const p = DEFAULT_COUNTRIES.find((c) => c.code === user.country)!.consent;
      mean.unticks += p.untick;
      variance.unticks += p.untick * (1 - p.untick);
      mean["opts-out-later"] += p.optOutLater;
      variance["opts-out-later"] += p.optOutLater * (1 - p.optOutLater);
    }
    expect(offered).toBeGreaterThan(1_500);
    expect(mismatches, JSON.stringify(s.refused)).toEqual([]);
    // the model's proportions, within 4 standard deviations of the binomial
    for (const kind of ["unticks", "opts-out-later"] as const) {
      expect(Math.abs(counts[kind] - mean[kind])).toBeLessThan(4 * Math.sqrt(variance[kind]));
    }
    expect(counts.accepts / offered).toBeGreaterThan(0.8);
  }, 300_000);
});

describe("without a seeded world (pnpm dev --empty)", () => {
  it("only moves the clock", async () => {
    const messenger = await startTestMessenger();
    try {
      const simulator = new Simulator({ messengerUrl: messenger.url, adminToken: TEST_ADMIN_TOKEN, speed: parseSpeed("1d/s"), tickMs: 100 });
      await simulator.start();
      const before = Date.parse(simulator.stats.clock!);
      await until(() => Date.parse(simulator.stats.clock!) > before + 12 * 3_600_000, 20_000, "half a simulated day");
      await simulator.stop();
      expect(simulator.stats.world).toBe("absent");
      expect(simulator.stats.devices).toEqual({ online: 0, offline: 0 });
      expect(simulator.stats.messages.sent).toBe(0);
    } finally {
      await messenger.close();
    }
  }, 60_000);
});

describe("the seeded world over a shard map (pnpm dev --shard-databases 2)", () => {
  it("is seeded on both databases, once, and the simulator's people sign in and exchange messages across them", async () => {
    const [home, other] = await Promise.all([createTestDatabase("messenger"), createTestDatabase("messenger")]);
    const map = parseShardMap({
      version: 1,
      shardCount: 10_000,
      databases: { "db-1": home.url, "db-2": other.url },
      ranges: [
        { from: 0, to: 4999, database: "db-1" },
        { from: 5000, to: 9999, database: "db-2" },
      ],
    });
    let messenger: TestMessenger | null = null;
    let simulator: Simulator | null = null;
    const otherSql = postgres(other.url, { max: 1 });
    try {
      const first = await seedWorldOnce({ messengerDatabaseUrl: home.url, facebookDatabaseUrl: null, shardMap: map });
      expect(first.seeded).toBe(true);
      // Home holds every account's directory row, so the world is found there on the next start.
      expect(await worldAccountsPresent(home.url)).toBe(worldUserIds().length);
      expect(await seedWorldOnce({ messengerDatabaseUrl: home.url, facebookDatabaseUrl: null, shardMap: map })).toEqual({ seeded: false, present: worldUserIds().length });
      const [onOther] = await otherSql<{ n: number }[]>`select count(*)::int as n from devices`;
      expect(onOther!.n).toBeGreaterThan(worldUserIds().length / 4);

      messenger = await startTestMessenger({ shardMap: map });
      simulator = new Simulator({
        messengerUrl: messenger.url,
        adminToken: TEST_ADMIN_TOKEN,
        speed: parseSpeed("1d/s"),
        liveDevices: 12,
        businesses: 0,
        messageBudgetPerSecond: 15,
        tickMs: 100,
      });
      await simulator.start();
      expect(simulator.stats.devices.online).toBe(12);
      await until(async () => simulator!.stats.messages.received >= 10, 60_000, "10 messages received");
      // Messages are stored on the second database too: its people are reached where they live.
      // Waited for, not read once: 4 of the 12 live people live there, and which contact each
      // send goes to is drawn, so the first 10 messages all went to the first database in 2
      // runs of 8. A message routed to the wrong database never arrives here, and this times out.
      await until(
        async () => (await otherSql<{ n: number }[]>`select count(*)::int as n from accepted_messages`)[0]!.n > 0,
        60_000,
        "a message stored on the second database",
      );
    } finally {
      await simulator?.stop();
      await messenger?.close();
      await otherSql.end();
      await Promise.all([home.drop(), other.drop()]);
    }
  }, 120_000);

  it("refuses, saying what to do, a database holding a world seeded under other account ids", async () => {
    const database = await createTestDatabase("messenger");
    const sql = postgres(database.url, { max: 1 });
    try {
      await migrateDatabase(database.url, "messenger");
      const phone = userCoreAt(WORLD_SPEC, worldUserIds()[3]!).phone;
      await sql`insert into accounts (id, phone_number, country, shard, kind, created_at)
                values ('00000000-0000-4000-8000-0000000000aa', ${phone}, 'DE', 0, 'personal', now())`;
      await expect(seedWorldOnce({ messengerDatabaseUrl: database.url, facebookDatabaseUrl: null })).rejects.toThrow(
        /a world seeded under other account ids .* remove \.data\//,
      );
    } finally {
      await sql.end();
      await database.drop();
    }
  });
});
