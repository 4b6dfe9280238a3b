/**
 * Seeding a messenger that runs with a shard map: each seeded account, its device and
 * keys land on the database its id's shard maps to, home gets its directory row, and a
 * real messenger over the same map serves seeded users on either database with their
 * fixture credentials. Two real databases, no mocks.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSpec, shardRange, userAt } from "@handshake/population";
import { rawClient } from "@handshake/db/client";
import { parseShardMap, shardOfAccountId, type ShardMap } from "@handshake/db/messenger-shards";
import { createTestDatabase, type TestDatabase } from "@handshake/db/testing";
import { createMessengerServer, type MessengerServer } from "@handshake/messenger/server";
import { createLogger } from "@handshake/messenger/log";
import type { FixtureUser } from "./fixtures";
import { sampleIdentity } from "./identity";
import { generateKeySet, type SeedKeySet } from "./key-set";
import { type SeedResult, seedSample } from "./seed";

const spec = createSpec({ size: 100_000, shardCount: 100, seed: 9 });
const PREKEYS = 2;
const OUTSIDE = 20;

let home: TestDatabase;
let other: TestDatabase;
let map: ShardMap;
let homeSql: ReturnType<typeof rawClient>;
let otherSql: ReturnType<typeof rawClient>;
let keySet: SeedKeySet;
let fixturesDir: string;
let first: SeedResult;
let users: FixtureUser[];

/** Which database a seeded account belongs on: home holds shards 0..4999 of 10,000. */
const onOther = (accountId: string) => shardOfAccountId(accountId)! >= 5000;
const count = async (sql: ReturnType<typeof rawClient>, table: "accounts" | "devices", ids: string[]) => {
  if (ids.length === 0) return 0;
  const column = table === "accounts" ? "id" : "account_id";
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(table)} where ${sql(column)} in ${sql(ids)}`;
  return row!.n;
};

beforeAll(async () => {
  [home, other] = await Promise.all([createTestDatabase("seedmap"), createTestDatabase("seedmap")]);
  map = parseShardMap({
    version: 1,
    shardCount: 10_000,
    databases: { "db-home": home.url, "db-other": other.url },
    home: "db-home",
    ranges: [
      { from: 0, to: 4999, database: "db-home" },
      { from: 5000, to: 9999, database: "db-other" },
    ],
  });
  keySet = await generateKeySet(PREKEYS);
  fixturesDir = await mkdtemp(path.join(tmpdir(), "handshake-seed-map-"));
  first = await seedSample({ spec, shards: [3], databaseUrl: home.url, shardMap: map, fixturesDir, prekeys: PREKEYS, outside: OUTSIDE, batchSize: 300, keySet });
  users = JSON.parse(await readFile(path.join(fixturesDir, "users.json"), "utf8")) as FixtureUser[];
  homeSql = rawClient(home.url, { max: 2 });
  otherSql = rawClient(other.url, { max: 2 });
}, 120_000);

afterAll(async () => {
  await homeSql?.end();
  await otherSql?.end();
  await rm(fixturesDir, { recursive: true, force: true });
  await home?.drop();
  await other?.drop();
});

describe("seeding with a shard map", () => {
  it("puts each account, device and key set on its shard's database, and every account's directory row on home", async () => {
    const ids = users.map((u) => u.accountId);
    const there = ids.filter(onOther);
    const here = ids.filter((id) => !onOther(id));
    // The phone hash spreads a population shard over both databases.
    expect(there.length).toBeGreaterThan(300);
    expect(here.length).toBeGreaterThan(300);
    expect(await count(otherSql, "accounts", there)).toBe(there.length);
    expect(await count(otherSql, "devices", there)).toBe(there.length);
    expect(await count(otherSql, "accounts", here)).toBe(0);
    expect(await count(homeSql, "devices", here)).toBe(here.length);
    expect(await count(homeSql, "devices", there)).toBe(0);
    // Directory rows: every account on home, the same phone and shard as on its own database.
    expect(await count(homeSql, "accounts", ids)).toBe(ids.length);
    const sample = there.slice(0, 5);
    const businessThere = users.filter((u) => u.business && onOther(u.accountId)).slice(0, 2).map((u) => u.accountId);
    const compared = [...sample, ...businessThere];
    const columns = "id, phone_number, country, shard, kind, display_name, created_at";
    const onItsDatabase = await otherSql.unsafe(`select ${columns} from accounts where id = any($1::uuid[]) order by id`, [compared]);
    const directory = await homeSql.unsafe(`select ${columns} from accounts where id = any($1::uuid[]) order by id`, [compared]);
    expect(directory).toHaveLength(compared.length);
    expect(directory).toEqual(onItsDatabase);
    // Keys on the account's database only.
    const [keys] = await otherSql<{ n: number }[]>`select count(*)::int as n from one_time_prekeys where account_id in ${otherSql(there.slice(0, 50))}`;
    expect(keys!.n).toBe(50 * PREKEYS);
    const rows = Object.fromEntries(first.tables.filter((t) => t.target === "messenger").map((t) => [t.table, t.rows]));
    expect(rows).toMatchObject({ accounts: 1000 + OUTSIDE, devices: 1000 + OUTSIDE });
    expect(first.skipped).toBe(0);
  });

  it("is idempotent, and a second run completes directory rows a first run did not write", async () => {
    const lost = users.map((u) => u.accountId).filter(onOther).slice(0, 7);
    await homeSql`delete from accounts where id in ${homeSql(lost)}`;
    const again = await seedSample({ spec, shards: [3], databaseUrl: home.url, shardMap: map, fixturesDir: null, prekeys: PREKEYS, outside: OUTSIDE, keySet });
    expect(again.tables.filter((t) => t.target === "messenger").every((t) => t.rows === 0)).toBe(true);
    expect(await count(homeSql, "accounts", lost)).toBe(lost.length);
  });

  it("refuses, naming the cause, when home holds a seeded number under another account", async () => {
    const identity = sampleIdentity(spec, { shardCount: 10_000 });
    const { start, end } = shardRange(spec, 7);
    let i = start;
    while (i < end && !onOther(identity.accountId(i))) i++;
    await homeSql`insert into accounts (id, phone_number, country, shard, kind, created_at)
                  values ('00000000-0000-4000-8000-00000000abcd', ${userAt(spec, i).phone}, 'XX', 1, 'personal', now())`;
    await expect(
      seedSample({ spec, shards: [7], databaseUrl: home.url, shardMap: map, fixturesDir: null, prekeys: PREKEYS, outside: 0, keySet }),
    ).rejects.toThrow(/1 seeded accounts got no directory row on the home database: their phone numbers belong to other accounts there/);
  });

  it("two runs of one sample at once: each account, device and directory row exactly once", async () => {
    const run = () => seedSample({ spec, shards: [11], databaseUrl: home.url, shardMap: map, fixturesDir: null, prekeys: PREKEYS, outside: 0, batchSize: 100, keySet });
    const [a, b] = await Promise.all([run(), run()]);
    const added = (r: SeedResult, table: string) => r.tables.find((t) => t.target === "messenger" && t.table === table)!.rows;
    expect(added(a, "accounts") + added(b, "accounts")).toBe(1000);
    expect(added(a, "devices") + added(b, "devices")).toBe(1000);
    const identity = sampleIdentity(spec, { shardCount: 10_000 });
    const { start, end } = shardRange(spec, 11);
    const ids = Array.from({ length: end - start }, (_, k) => identity.accountId(start + k));
    const there = ids.filter(onOther);
    expect(await count(otherSql, "devices", there)).toBe(there.length);
    expect(await count(homeSql, "devices", ids.filter((id) => !onOther(id)))).toBe(ids.length - there.length);
    expect(await count(homeSql, "accounts", ids)).toBe(ids.length);
  });

  it("a run whose home connections are killed mid-way fails with the database's error; the next run completes every directory row", async () => {
    const identity = sampleIdentity(spec, { shardCount: 10_000 });
    const { start, end } = shardRange(spec, 13);
    const ids = Array.from({ length: end - start }, (_, k) => identity.accountId(start + k));
    let killed = 0;
    const run = seedSample({ spec, shards: [13], databaseUrl: home.url, shardMap: map, fixturesDir: null, prekeys: PREKEYS, outside: 0, batchSize: 50, concurrency: 1, keySet });
    const outcome = run.then(() => "finished", (error: Error) => error.message);
    // Terminate the seeder's sessions on home once the first directory rows are there.
    while (killed === 0) {
      const [listed] = await homeSql<{ n: number }[]>`select count(*)::int as n from accounts where id in ${homeSql(ids.filter(onOther))}`;
      if (listed!.n > 0) {
        const terminated = await homeSql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'seed' and datname = current_database()`;
        killed = terminated.length;
      }
      if ((await Promise.race([outcome, new Promise((resolve) => setTimeout(resolve, 5, "running"))])) !== "running") break;
    }
    expect(killed).toBeGreaterThan(0);
    expect(await outcome).toMatch(/terminat|CONNECTION|ECONNRESET|closed/i);
    expect(await count(homeSql, "accounts", ids)).toBeLessThan(ids.length);
    await seedSample({ spec, shards: [13], databaseUrl: home.url, shardMap: map, fixturesDir: null, prekeys: PREKEYS, outside: 0, keySet });
    expect(await count(homeSql, "accounts", ids)).toBe(ids.length);
    expect(await count(otherSql, "devices", ids.filter(onOther))).toBe(ids.filter(onOther).length);
    expect(await count(homeSql, "devices", ids.filter((id) => !onOther(id)))).toBe(ids.filter((id) => !onOther(id)).length);
  });

  it("refuses a messenger database that is not the map's home", async () => {
    await expect(
      seedSample({ spec, shards: [3], databaseUrl: other.url, shardMap: map, fixturesDir: null, prekeys: PREKEYS, outside: 0, keySet }),
    ).rejects.toThrow(/the shard map's home database is/);
  });
});

describe("a real messenger over the same shard map", () => {
  let server: MessengerServer;
  let url: string;
  beforeAll(async () => {
    server = await createMessengerServer({ databaseUrl: home.url, shardMap: map, poolSize: 2, logger: createLogger({ level: "silent" }) });
    url = (await server.listen(0)).url;
  });
  afterAll(async () => {
    await server?.close();
  });

  const send = async (from: FixtureUser, to: FixtureUser, messageId: string) => {
    const response = await fetch(`${url}/message.send`, {
      method: "POST",
      headers: { authorization: `Bearer ${from.credential}`, "content-type": "application/json" },
      body: JSON.stringify({ messageId, recipient: { accountId: to.accountId, deviceId: 1 }, type: 1, content: Buffer.from("opaque").toString("base64") }),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  it("serves seeded users on both databases with their fixture credentials; each envelope is stored with its recipient", async () => {
    const personal = users.filter((u) => !u.business);
    const a = personal.find((u) => !onOther(u.accountId))!;
    const b = personal.find((u) => onOther(u.accountId))!;
    const toB = await send(a, b, "7d0c6c1e-41a8-4f0e-9a51-2a3b4c5d6e01");
    const toA = await send(b, a, "7d0c6c1e-41a8-4f0e-9a51-2a3b4c5d6e02");
    expect(toB.status, JSON.stringify(toB.body)).toBe(200);
    expect(toA.status, JSON.stringify(toA.body)).toBe(200);
    expect(await otherSql`select sender_account_id from envelopes where recipient_account_id = ${b.accountId}`).toEqual([{ sender_account_id: a.accountId }]);
    expect(await homeSql`select sender_account_id from envelopes where recipient_account_id = ${a.accountId}`).toEqual([{ sender_account_id: b.accountId }]);
  });
});
