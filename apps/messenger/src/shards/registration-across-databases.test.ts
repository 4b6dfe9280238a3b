/**
 * Registration with a shard map writes two databases: the account, its device and
 * queue on the number's shard database, then the directory row and the
 * account-created event on home. Racing registrations of one number, and home
 * unreachable between the two transactions. Two real databases, no mocks: the
 * "unreachable" home is a real client of a port nothing listens on.
 */
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase } from "@handshake/db/migrate";
import { createTestDatabase, type TestDatabase } from "@handshake/db/testing";
import { registerVerifiedNumber, type NewAccount } from "../storage/accounts";
import { shardOfAccountId, taggedAccountId } from "@handshake/db/messenger-shards";

let homeDb: TestDatabase;
let shardDb: TestDatabase;
let home: postgres.Sql;
let shard: postgres.Sql;
beforeAll(async () => {
  [homeDb, shardDb] = await Promise.all([createTestDatabase("messenger"), createTestDatabase("messenger")]);
  await migrateDatabase(homeDb.url, "messenger");
  await migrateDatabase(shardDb.url, "messenger");
  home = postgres(homeDb.url, { max: 8, onnotice: () => {} });
  shard = postgres(shardDb.url, { max: 8, onnotice: () => {} });
});
afterAll(async () => {
  await home?.end();
  await shard?.end();
  await homeDb?.drop();
  await shardDb?.drop();
});

let counter = 0;
const newAccount = (): NewAccount => ({
  phoneNumber: `+4915178${String(++counter).padStart(6, "0")}`,
  country: "DE",
  shard: 7_123,
  kind: "personal",
  displayName: null,
  device: { os: "android", osVersion: "6.0.1", appVersion: "2.16", model: "x" },
  createdAt: new Date("2016-08-20T08:00:00Z"),
});
const hash = () => randomBytes(32);
/** The map's routing, as ShardDatabases.sqlFor does it: ids without a shard live on home, the rest on the shard database. */
const databaseOf = (id: string) => (shardOfAccountId(id) === null ? home : shard);
/** The account-created event: a row in home's share_sequences, in the directory row's transaction. */
const afterCreate = async (tx: postgres.TransactionSql, account: { id: string }) => {
  await tx`insert into share_sequences (account_id, sequence) values (${account.id}, 1)`;
};
const count = async (sql: postgres.Sql, query: "accounts" | "devices" | "events", id: string) => {
  const rows =
    query === "accounts"
      ? await sql`select 1 from accounts where id = ${id}`
      : query === "devices"
        ? await sql`select 1 from devices where account_id = ${id}`
        : await sql`select 1 from share_sequences where account_id = ${id}`;
  return rows.length;
};

describe("registration over a shard database and home", () => {
  it("ten racing registrations of one number: one account id, one directory row, one created event, one device left", async () => {
    const account = newAccount();
    const results = await Promise.all(Array.from({ length: 10 }, () => registerVerifiedNumber({ home, account: shard, databaseOf }, account, hash, afterCreate)));
    const ids = new Set(results.map((r) => r.accountId));
    expect(ids.size).toBe(1);
    const [id] = [...ids] as [string];
    expect(shardOfAccountId(id)).toBe(7_123);
    expect(results.filter((r) => !r.reregistered)).toHaveLength(1);
    expect(await count(shard, "accounts", id)).toBe(1);
    expect(await count(shard, "devices", id)).toBe(1);
    expect(await count(home, "accounts", id)).toBe(1);
    expect(await count(home, "events", id)).toBe(1);
    expect(await count(home, "devices", id)).toBe(0);
  });

  it("home unreachable after the shard committed: the call fails; registering again completes home once, as a new account", async () => {
    const account = newAccount();
    // Home answers the number's lookup, then its pool is gone (closed from inside the
    // shard database's transaction): the directory row cannot be written.
    const homeClient = postgres(homeDb.url, { max: 1, onnotice: () => {} });
    const closeHome = () => {
      void homeClient.end({ timeout: 0 });
      return hash();
    };
    await expect(registerVerifiedNumber({ home: homeClient, account: shard, databaseOf }, account, closeHome, afterCreate)).rejects.toThrow(
      /CONNECTION_ENDED|write CONNECTION_ENDED|ended/i,
    );
    const [orphan] = await shard<{ id: string }[]>`select id from accounts where phone_number = ${account.phoneNumber}`;
    expect(orphan).toBeDefined();
    expect(await count(home, "accounts", orphan!.id)).toBe(0);

    const retried = await registerVerifiedNumber({ home, account: shard, databaseOf }, account, hash, afterCreate);
    expect(retried.accountId).toBe(orphan!.id);
    expect(retried.reregistered).toBe(false);
    expect(await count(home, "accounts", retried.accountId)).toBe(1);
    expect(await count(home, "events", retried.accountId)).toBe(1);
    expect(await count(shard, "devices", retried.accountId)).toBe(1);
    // A later takeover of the number is a re-registration and writes no second created event.
    const again = await registerVerifiedNumber({ home, account: shard, databaseOf }, account, hash, afterCreate);
    expect(again).toMatchObject({ accountId: retried.accountId, reregistered: true, replacedDevices: [1] });
    expect(await count(home, "events", retried.accountId)).toBe(1);
  });

  it("a number whose account lives on home under an id without a shard (seeded) is taken over on home, not created again on its shard database", async () => {
    const account = newAccount();
    // What tooling/seed writes: a version 8 id with variant nibble 8 (no shard), on home.
    const seededId = `0badc0de-0000-8000-8${String(counter).padStart(3, "0")}-0123456789ab`;
    expect(shardOfAccountId(seededId)).toBeNull();
    await home`insert into accounts (id, phone_number, country, shard, kind, created_at)
               values (${seededId}, ${account.phoneNumber}, 'DE', 12, 'personal', ${account.createdAt})`;
    await home`insert into devices (account_id, device_id, credential_hash, os, os_version, app_version, model, created_at)
               values (${seededId}, 1, ${hash()}, 'android', '6', '2.16', 'seeded', ${account.createdAt})`;
    const results = await Promise.all([1, 2].map(() => registerVerifiedNumber({ home, account: shard, databaseOf }, account, hash, afterCreate)));
    for (const result of results) expect(result).toMatchObject({ accountId: seededId, deviceId: 1, reregistered: true });
    // One of the two replaced the seeded device, the other the first one's.
    expect(results.flatMap((r) => r.replacedDevices)).toEqual([1, 1]);
    expect(await shard`select id from accounts where phone_number = ${account.phoneNumber}`).toHaveLength(0);
    expect(await home`select id from accounts where phone_number = ${account.phoneNumber}`).toEqual([{ id: seededId }]);
    expect(await count(home, "devices", seededId)).toBe(1);
    // A takeover is no new account: no account-created event.
    expect(await count(home, "events", seededId)).toBe(0);
  });

  it("a number whose account's id routes to a third database (seeded under another shard count) is taken over there", async () => {
    const third = await createTestDatabase("messenger");
    await migrateDatabase(third.url, "messenger");
    const thirdSql = postgres(third.url, { max: 2, onnotice: () => {} });
    try {
      const account = newAccount();
      // Seeded under a shard count that put it on the third database: its row there, its directory row on home.
      const seededId = taggedAccountId(42, "0000000001" + "cafe0000cafe00");
      for (const sql of [thirdSql, home]) {
        await sql`insert into accounts (id, phone_number, country, shard, kind, created_at)
                  values (${seededId}, ${account.phoneNumber}, 'DE', 42, 'personal', ${account.createdAt})`;
      }
      await thirdSql`insert into devices (account_id, device_id, credential_hash, os, os_version, app_version, model, created_at)
                     values (${seededId}, 1, ${hash()}, 'android', '6', '2.16', 'seeded', ${account.createdAt})`;
      const withThird = (id: string) => (shardOfAccountId(id) === 42 ? thirdSql : databaseOf(id));
      const result = await registerVerifiedNumber({ home, account: shard, databaseOf: withThird }, account, hash, afterCreate);
      expect(result).toMatchObject({ accountId: seededId, reregistered: true, replacedDevices: [1] });
      expect(await shard`select id from accounts where phone_number = ${account.phoneNumber}`).toHaveLength(0);
      expect(await count(thirdSql, "devices", seededId)).toBe(1);
      expect(await home`select id from accounts where phone_number = ${account.phoneNumber}`).toEqual([{ id: seededId }]);
    } finally {
      await thirdSql.end();
      await third.drop();
    }
  });
});
