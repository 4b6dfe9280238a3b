/**
 * The fault proxy against a real PostgreSQL: it passes traffic untouched, loses
 * exactly the COMMIT replies it is told to (the transaction is durable, the client
 * gets an error), and cuts open connections.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresFaultProxy } from "./fault-proxy";
import { createTestDatabase, type TestDatabase } from "./testing";

let database: TestDatabase;
let proxy: PostgresFaultProxy;
let direct: postgres.Sql;

const throughProxy = () => {
  const url = new URL(database.url);
  url.port = String(proxy.port);
  return postgres(url.toString(), { max: 1, onnotice: () => {}, connect_timeout: 5 });
};

beforeAll(async () => {
  database = await createTestDatabase("faults_proxy");
  const url = new URL(database.url);
  proxy = await PostgresFaultProxy.start({ host: "127.0.0.1", port: Number(url.port) });
  direct = postgres(database.url, { max: 1, onnotice: () => {} });
  await direct`create table notes (id int primary key)`;
});

afterAll(async () => {
  await direct.end();
  await proxy.close();
  await database.drop();
});

describe("PostgresFaultProxy", () => {
  it("passes queries and transactions through untouched", async () => {
    const sql = throughProxy();
    try {
      await sql.begin((tx) => tx`insert into notes (id) values (1)`);
      const rows = await sql<{ id: number }[]>`select id from notes where id = 1`;
      expect(rows).toEqual([{ id: 1 }]);
      expect(proxy.stats.commitsSeen).toBeGreaterThanOrEqual(1);
      expect(proxy.stats.commitRepliesDropped).toBe(0);
    } finally {
      await sql.end();
    }
  });

  it("loses a COMMIT reply: the client sees an error, yet the transaction is durable", async () => {
    proxy.setMode({ kind: "drop-commit-reply", every: 1, limit: proxy.stats.commitRepliesDropped + 1 });
    const sql = throughProxy();
    try {
      await expect(sql.begin((tx) => tx`insert into notes (id) values (2)`)).rejects.toThrow();
      expect(proxy.stats.commitRepliesDropped).toBe(1);
      expect(await direct`select id from notes where id = 2`).toHaveLength(1);
      // The limit is reached: the next commit gets its reply.
      await sql.begin((tx) => tx`insert into notes (id) values (3)`);
      expect(await direct`select id from notes where id = 3`).toHaveLength(1);
    } finally {
      proxy.setMode({ kind: "pass" });
      await sql.end();
    }
  });

  it("cuts every open connection on demand", async () => {
    const sql = throughProxy();
    try {
      await sql`select 1`;
      expect(proxy.openConnections).toBe(1);
      const slow = sql`select pg_sleep(5)`;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(proxy.cutAll()).toBe(1);
      await expect(slow).rejects.toThrow();
      expect(proxy.openConnections).toBe(0);
      // postgres.js reconnects through the proxy.
      expect(await sql`select 1 as one`).toEqual([{ one: 1 }]);
    } finally {
      await sql.end();
    }
  });
});
