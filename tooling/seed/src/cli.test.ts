import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@handshake/db/testing";
import { UsageError, parseSeedArgs } from "./cli";
import { NoDatabaseError, resolveFacebookDatabase, resolveMessengerDatabase, runningStackShardMap } from "./database";
import { outsidePool, samplePosition } from "./sample";
import { sampleIdentity } from "./identity";
import { createSpec, facebookProfilesOfShard, userCoreAt } from "@handshake/population";
import { shardOfAccountId, shardOfPhone } from "@handshake/db/messenger-shards";
import { rawClient } from "@handshake/db/client";

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Runs the real entry point the way `pnpm population seed` does. */
function cli(args: string[], env: Record<string, string | undefined> = {}) {
  const run = spawnSync("pnpm", ["--silent", "run", "seed", ...args], {
    cwd: packageDir,
    encoding: "utf8",
    env: { ...process.env, MESSENGER_DATABASE_URL: undefined, FACEBOOK_DATABASE_URL: undefined, ...env },
    timeout: 60_000,
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

describe("seed command line", () => {
  it("rejects bad arguments with a message naming the problem", () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /--shards is required/],
      [["--shards", "10000"], /out of range/],
      [["--shards", "3-1"], /end before start/],
      [["--shards", "0", "--prekeys", "500"], /--prekeys must be an integer in \[0, 100\]/],
      [["--shards", "0", "--size", "1000", "--shard-count", "7"], /must divide/],
      [["--shards", "0", "--database-url", "mysql://x"], /postgres:\/\/ URL/],
      [["--shards", "0", "--fixtures", "x", "--no-fixtures"], /exclude each other/],
      [["--shards", "0", "--bogus"], /Unknown option/],
      [["--shards", "0", "--facebook-database-url", "x"], /--facebook-database-url must be a postgres:\/\/ URL/],
      [["--shards", "0", "--facebook-database-url", "postgres://h/f", "--no-facebook"], /exclude each other/],
      [["--shards", "0", "--address-book-share", "1.5"], /--address-book-share must be a number in \[0, 1\]/],
      [["--shards", "0", "--address-book-max", "9999"], /--address-book-max must be an integer in \[0, 5000\]/],
    ];
    for (const [args, message] of cases) expect(() => parseSeedArgs(args, "/tmp"), args.join(" ")).toThrow(message);
    expect(() => parseSeedArgs(["--shards", "x"], "/tmp")).toThrow(UsageError);
  });

  it("resolves --fixtures against the caller's directory and defaults to loadtest/fixtures/sample", () => {
    expect(parseSeedArgs(["--shards", "0", "--fixtures", "out"], "/home/me").fixturesDir).toBe("/home/me/out");
    expect(parseSeedArgs(["--shards", "0"], "/home/me").fixturesDir).toMatch(/loadtest\/fixtures\/sample$/);
    expect(parseSeedArgs(["--shards", "0", "--no-fixtures"], "/home/me").fixturesDir).toBeNull();
  });

  it("accepts the load-test runner's spellings: 0..3, --out, --messenger-database-url", () => {
    const c = parseSeedArgs(["--shards", "0..3", "--out", "f", "--messenger-database-url", "postgres://h/db"], "/w");
    expect(c).toMatchObject({ shards: [0, 1, 2, 3], fixturesDir: "/w/f", databaseUrl: "postgres://h/db" });
    expect(() => parseSeedArgs(["--shards", "0", "--out", "a", "--fixtures", "b"], "/w")).toThrow(/same option/);
  });

  it("reads the Facebook options, with the address-book defaults", () => {
    expect(parseSeedArgs(["--shards", "0"], "/w")).toMatchObject({ facebookDatabaseUrl: undefined, noFacebook: false, addressBooks: { share: 0.3, max: 50 } });
    const c = parseSeedArgs(["--shards", "0", "--facebook-database-url", "postgres://h/f", "--address-book-share", "0.5", "--address-book-max", "10"], "/w");
    expect(c).toMatchObject({ facebookDatabaseUrl: "postgres://h/f", addressBooks: { share: 0.5, max: 10 } });
    expect(parseSeedArgs(["--shards", "0", "--no-facebook"], "/w").noFacebook).toBe(true);
  });

  it("exits 2 with the usage on a bad argument", () => {
    const bad = cli(["--shards", "0-99999"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/shard 99999 out of range/);
    expect(bad.err).toMatch(/usage: pnpm population seed/);
  });

  it("picks --database-url, then MESSENGER_DATABASE_URL, then the dev stack, else says how to get one", async () => {
    type FindStack = NonNullable<Parameters<typeof resolveMessengerDatabase>[0]["findStack"]>;
    const stack: FindStack = async () => ({ services: { messenger: { databaseUrl: "postgres://stack/db" } } });
    const none: FindStack = async () => null;
    const pick = (explicit?: string, fromEnv?: string, findStack: FindStack = stack) =>
      resolveMessengerDatabase({ explicit, fromEnv, findStack });
    expect(await pick("postgres://a/x", "postgres://b/y")).toEqual({ url: "postgres://a/x", source: "--database-url" });
    expect(await pick(undefined, "postgres://b/y")).toEqual({ url: "postgres://b/y", source: "MESSENGER_DATABASE_URL" });
    expect(await pick()).toEqual({ url: "postgres://stack/db", source: "pnpm dev" });
    await expect(pick(undefined, undefined, none)).rejects.toThrow(NoDatabaseError);
    await expect(pick(undefined, undefined, none)).rejects.toThrow(/start the stack with `pnpm dev`.*--database-url/s);
  });

  it("picks --facebook-database-url, then FACEBOOK_DATABASE_URL, then the dev stack's (only beside its messenger), else none with a reason", async () => {
    type FindStack = NonNullable<Parameters<typeof resolveFacebookDatabase>[0]["findStack"]>;
    const stack: FindStack = async () => ({
      services: { messenger: { databaseUrl: "postgres://stack/m" }, facebook: { databaseUrl: "postgres://stack/f" } },
    });
    const none: FindStack = async () => null;
    const pick = (explicit?: string, fromEnv?: string, messengerUrl = "postgres://stack/m", findStack: FindStack = stack, disabled = false) =>
      resolveFacebookDatabase({ explicit, fromEnv, messengerUrl, findStack, disabled });
    expect(await pick("postgres://a/f", "postgres://b/f")).toEqual({ url: "postgres://a/f", source: "--facebook-database-url" });
    expect(await pick(undefined, "postgres://b/f")).toEqual({ url: "postgres://b/f", source: "FACEBOOK_DATABASE_URL" });
    expect(await pick()).toEqual({ url: "postgres://stack/f", source: "pnpm dev" });
    // a messenger database named by hand is not mixed with the dev stack's Facebook side
    expect(await pick(undefined, undefined, "postgres://elsewhere/m")).toMatchObject({ url: null, reason: /not the running `pnpm dev` stack's/ });
    expect(await pick(undefined, undefined, "postgres://stack/m", none)).toMatchObject({ url: null, reason: /--facebook-database-url/ });
    expect(await pick(undefined, "postgres://b/f", "postgres://stack/m", stack, true)).toEqual({ url: null, reason: "--no-facebook" });
  });
});

describe("the running stack's shard map", () => {
  it("is used only when the run writes to that stack's messenger database", async () => {
    const stack = async () => ({ shards: { map: "/x/.data/shard-map.json" }, services: { messenger: { databaseUrl: "postgres://stack/m" } } });
    const noShards = async () => ({ services: { messenger: { databaseUrl: "postgres://stack/m" } } });
    expect(await runningStackShardMap("postgres://stack/m", stack)).toBe("/x/.data/shard-map.json");
    expect(await runningStackShardMap("postgres://elsewhere/m", stack)).toBeNull();
    expect(await runningStackShardMap("postgres://stack/m", noShards)).toBeNull();
    expect(await runningStackShardMap("postgres://stack/m", async () => null)).toBeNull();
  });
});

describe("seed end to end through the entry point", () => {
  let db: TestDatabase;
  let facebookDb: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    [db, facebookDb] = await Promise.all([createTestDatabase("seedcli"), createTestDatabase("seedcli_fb")]);
    dir = await mkdtemp(path.join(tmpdir(), "handshake-seed-cli-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await Promise.all([db?.drop(), facebookDb?.drop()]);
  });

  it("seeds from MESSENGER_DATABASE_URL and FACEBOOK_DATABASE_URL, prints the table and writes the fixtures", async () => {
    const args = ["--shards", "1", "--size", "100000", "--shard-count", "200", "--outside", "10", "--fixtures", dir];
    const env = { MESSENGER_DATABASE_URL: db.url, FACEBOOK_DATABASE_URL: facebookDb.url };
    const run = cli(args, env);
    expect(run.err).toMatch(/seeding into .* \(from MESSENGER_DATABASE_URL\)/);
    expect(run.err).toMatch(/facebook: seeding into .* \(from FACEBOOK_DATABASE_URL\)/);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/messenger\.accounts\s+510\s/);
    expect(run.out).toMatch(/messenger\.one_time_prekeys\s+2,550\s/);
    const profiles = [...facebookProfilesOfShard(createSpec({ size: 100_000, shardCount: 200 }), 1)].length;
    expect(run.out).toMatch(new RegExp(`facebook\\.profiles\\s+${profiles.toLocaleString("en-US")}\\s`));
    expect(run.out).toMatch(/facebook\.address_book_entries\s+[1-9]/);
    const users = JSON.parse(await readFile(path.join(dir, "users.json"), "utf8")) as unknown[];
    expect(users).toHaveLength(500);
    const meta = JSON.parse(await readFile(path.join(dir, "meta.json"), "utf8")) as { facebook: { profiles: number } };
    expect(meta.facebook.profiles).toBe(profiles);
    const again = cli(args, env);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/total\s+0\s/);
  }, 60_000);

  it("with --shard-map, seeds each account on its shard's database and defaults the messenger database to the map's home", async () => {
    const [home, other] = await Promise.all([createTestDatabase("seedcli_home"), createTestDatabase("seedcli_other")]);
    try {
      const mapFile = path.join(dir, "shard-map.json");
      await writeFile(mapFile, JSON.stringify({
        version: 1,
        shardCount: 10_000,
        // A `${VAR}` is read from the environment, as the messenger reads it.
        databases: { home: home.url, other: other.url.replace(/^postgres:\/\//, "${OTHER_SCHEME}://") },
        ranges: [{ from: 0, to: 4999, database: "home" }, { from: 5000, to: 9999, database: "other" }],
      }));
      const run = cli(["--shards", "1", "--size", "100000", "--shard-count", "200", "--outside", "0", "--no-fixtures", "--no-facebook", "--shard-map", mapFile], {
        OTHER_SCHEME: "postgres",
      });
      expect(run.code, run.err).toBe(0);
      expect(run.err).toMatch(/seeding into .* \(from --shard-map\)/);
      expect(run.err).toMatch(/shard map: 10000 shards over 2 databases \(home home; other /);
      expect(run.out).toMatch(/messenger\.accounts\s+500\s/);
      const homeSql = rawClient(home.url, { max: 1 });
      const otherSql = rawClient(other.url, { max: 1 });
      try {
        const [onOther] = await otherSql<{ n: number }[]>`select count(*)::int as n from devices`;
        const [onHome] = await homeSql<{ n: number }[]>`select count(*)::int as n from devices`;
        const [directory] = await homeSql<{ n: number }[]>`select count(*)::int as n from accounts`;
        expect(onOther!.n).toBeGreaterThan(150);
        expect(onHome!.n).toBeGreaterThan(150);
        expect(onOther!.n + onHome!.n).toBe(500);
        expect(directory!.n).toBe(500);
      } finally {
        await homeSql.end();
        await otherSql.end();
      }
    } finally {
      await Promise.all([home.drop(), other.drop()]);
    }
  }, 60_000);

  it("says what is wrong with a shard map that is missing or invalid, and seeds nothing", async () => {
    const missing = cli(["--shards", "1", "--size", "100000", "--shard-count", "200", "--no-fixtures", "--shard-map", path.join(dir, "nope.json")], {});
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/population seed: shard map .*nope\.json could not be read/);
    expect(missing.err).not.toMatch(/\n\s+at /);
    const bad = path.join(dir, "bad-map.json");
    await writeFile(bad, JSON.stringify({ version: 1, shardCount: 10, databases: { a: "postgres://h/m" }, ranges: [{ from: 0, to: 4, database: "a" }] }));
    const invalid = cli(["--shards", "1", "--size", "100000", "--shard-count", "200", "--no-fixtures", "--shard-map", bad], {});
    expect(invalid.code).toBe(1);
    expect(invalid.err).toMatch(/invalid shard map:[\s\S]*shards 5\.\.9 have no database/);
  }, 60_000);

  it("fails, before seeding anything, when the named Facebook database cannot be reached", async () => {
    const run = cli(["--shards", "2", "--size", "100000", "--shard-count", "200", "--no-fixtures", "--facebook-database-url", "postgres://u:p@127.0.0.1:1/nowhere"], {
      MESSENGER_DATABASE_URL: db.url,
    });
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/population seed failed: .*ECONNREFUSED/);
    const sql = rawClient(db.url, { max: 1 });
    try {
      // Population shard 2's users, by their ids (an account's shard column is the messenger's shard).
      const spec = createSpec({ size: 100_000, shardCount: 200 });
      const identity = sampleIdentity(spec);
      const ids = Array.from({ length: 500 }, (_, k) => identity.accountId(1000 + k));
      const [row] = await sql`select count(*)::int as n from accounts where id in ${sql(ids)}`;
      expect(row!.n).toBe(0);
    } finally {
      await sql.end();
    }
  }, 60_000);
});

describe("sample layout", () => {
  const spec = createSpec({ size: 1_000_000, shardCount: 100 });

  it("spreads the outside pool over the complement of the sample, deterministically", () => {
    const pool = outsidePool(spec, [0, 50, 99], 97);
    expect(pool).toHaveLength(97);
    expect(new Set(pool).size).toBe(97);
    for (const id of pool) expect([0, 50, 99]).not.toContain(Math.floor(id / 10_000));
    expect(new Set(pool.map((id) => Math.floor(id / 10_000))).size).toBe(97);
    expect(outsidePool(spec, [0, 50, 99], 97)).toEqual(pool);
    expect(outsidePool(spec, [...Array(100).keys()], 10)).toEqual([]);
  });

  it("maps population ids to users.json positions and outsiders to -1", () => {
    const position = samplePosition(spec, [7, 2]);
    expect(position(20_000)).toBe(0);
    expect(position(29_999)).toBe(9_999);
    expect(position(70_000)).toBe(10_000);
    expect(position(30_000)).toBe(-1);
  });

  it("derives the same ids and credentials for the same population, different ones for another seed; ids carry the messenger shard of the phone", () => {
    const spec1 = createSpec({ seed: 1, size: 1e9 });
    const a = sampleIdentity(spec1);
    const b = sampleIdentity(createSpec({ seed: 1, size: 1e9 }));
    const c = sampleIdentity(createSpec({ seed: 2, size: 1e9 }));
    expect(a.credential(42)).toBe(b.credential(42));
    expect(a.credential(42)).toBe(`${a.accountId(42)}.1.${a.secret(42)}`);
    expect(a.accountId(42)).not.toBe(c.accountId(42));
    expect(a.secret(42)).not.toBe(c.secret(42));
    expect(a.secret(42)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The messenger's layout: shard, then the population index, variant nibble b.
    expect(a.accountId(42)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-b[0-9a-f]{3}-[0-9a-f]{12}$/);
    for (const i of [0, 42, 999_999_999]) {
      const phone = userCoreAt(spec1, i).phone;
      expect(shardOfAccountId(a.accountId(i))).toBe(shardOfPhone(phone, 10_000));
      expect(a.accountIdOf(i, phone)).toBe(a.accountId(i));
    }
    // Another messenger shard count: the same user, the shard of its phone modulo that count.
    const small = sampleIdentity(spec1, { shardCount: 7 });
    expect(shardOfAccountId(small.accountId(42))).toBe(shardOfPhone(userCoreAt(spec1, 42).phone, 7));
    // Ids of different users differ, also where their phones share a shard.
    const ids = new Set(Array.from({ length: 5000 }, (_, i) => small.accountId(i)));
    expect(ids.size).toBe(5000);
  });
});
