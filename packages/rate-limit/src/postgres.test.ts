import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase } from "@handshake/db/migrate";
import { createTestDatabase, type TestDatabase } from "@handshake/db/testing";
import { MemoryTokenBuckets } from "./memory";
import { PostgresTokenBuckets } from "./postgres";
import type { TokenBucketLimit } from "./token-bucket";

const limit: TokenBucketLimit = { capacity: 5, refillPerSecond: 1, description: "test calls" };

let database: TestDatabase;
let sql: postgres.Sql;
beforeAll(async () => {
  database = await createTestDatabase("ratelimit");
  await migrateDatabase(database.url, "facebook"); // any service schema has rate_limit_buckets
  sql = postgres(database.url, { max: 8, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

describe("token buckets", () => {
  it("behave the same in memory and in PostgreSQL: burst, refusal with retry time, refill, per key", async () => {
    let now = 1_000_000;
    const memory = new MemoryTokenBuckets(() => now);
    const shared = new PostgresTokenBuckets(sql, () => now);
    const script: [advanceMs: number, key: string, cost: number][] = [
      [0, "a", 1], [0, "a", 1], [0, "a", 3], [0, "a", 1], [0, "b", 1], [500, "a", 1], [500, "a", 1], [0, "a", 1], [10_000, "a", 5], [0, "a", 6],
    ];
    for (const [advanceMs, key, cost] of script) {
      now += advanceMs;
      const inMemory = memory.take(`t:${key}`, limit, cost);
      const inDatabase = await shared.take(`t:${key}`, limit, cost);
      expect(inDatabase).toEqual({ ...inMemory, remaining: expect.closeTo(inMemory.remaining, 6) as number });
    }
    memory.close();
    expect(memory.take("t:x", limit, 5)).toMatchObject({ allowed: true, remaining: 0 });
    expect(memory.take("t:x", limit)).toMatchObject({ allowed: false, retryAfterMs: 1000 });
  });

  it("never lets two nodes spend the same token: 40 concurrent takes from two stores get exactly capacity", async () => {
    const nodeA = new PostgresTokenBuckets(sql);
    const nodeB = new PostgresTokenBuckets(sql);
    const slow: TokenBucketLimit = { capacity: 10, refillPerSecond: 1 / 3600, description: "test" };
    const decisions = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? nodeA : nodeB).take("race:1", slow)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
  });

  it("sweeps only buckets that are full again", async () => {
    let now = 5_000_000;
    const shared = new PostgresTokenBuckets(sql, () => now);
    await shared.take("sweep:a", limit, 5); // empty: full again in 5 s
    await shared.take("sweep:b", limit, 1); // full again in 1 s
    now += 2_000;
    await shared.sweep();
    const left = await sql<{ id: string }[]>`select id from rate_limit_buckets where id like 'sweep:%' order by id`;
    expect(left.map((r) => r.id)).toEqual(["sweep:a"]);
  });
});
