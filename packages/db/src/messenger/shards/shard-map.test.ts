/** The shard map file and the account ids that carry a shard: validation and routing, no database. */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { mintAccountId, shardOfAccountId } from "./account-id";
import { databaseOfShard, parseShardMap, singleDatabaseMap } from "./shard-map";

const valid = {
  version: 3,
  shardCount: 10,
  databases: { "pg-a": "postgres://m:${PG_A_PASSWORD}@10.0.0.11:5432/handshake_messenger", "pg-b": "postgres://10.0.0.12/handshake_messenger" },
  ranges: [
    { from: 0, to: 3, database: "pg-a" },
    { from: 4, to: 9, database: "pg-b" },
  ],
};

describe("shard map", () => {
  it("reads a valid map, substitutes ${VAR} from the environment, home defaults to the first database", () => {
    const map = parseShardMap(valid, { PG_A_PASSWORD: "s3cret" });
    expect(map.databases["pg-a"]).toBe("postgres://m:s3cret@10.0.0.11:5432/handshake_messenger");
    expect(map.home).toBe("pg-a");
    expect([0, 3, 4, 9].map((s) => databaseOfShard(map, s))).toEqual(["pg-a", "pg-a", "pg-b", "pg-b"]);
    expect(() => databaseOfShard(map, 10)).toThrow(/outside the map/);
  });

  it("lists every problem: gaps, overlaps, unknown databases, missing variables, short coverage", () => {
    const bad = {
      ...valid,
      ranges: [
        { from: 0, to: 2, database: "pg-a" },
        { from: 4, to: 6, database: "pg-c" },
        { from: 6, to: 8, database: "pg-b" },
      ],
    };
    let message = "";
    try {
      parseShardMap(bad, {});
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/PG_A_PASSWORD is not set/);
    expect(message).toMatch(/leaving shards 3\.\.3 without a database/);
    expect(message).toMatch(/"pg-c" is not in databases/);
    expect(message).toMatch(/overlapping the range before/);
    expect(message).toMatch(/shards 9\.\.9 have no database/);
  });

  it("refuses unknown fields and non-postgres URLs with the path named", () => {
    expect(() => parseShardMap({ ...valid, extra: 1 }, { PG_A_PASSWORD: "x" })).toThrow(/extra/);
    expect(() => parseShardMap({ ...valid, databases: { ...valid.databases, "pg-b": "mysql://h/db" } }, { PG_A_PASSWORD: "x" })).toThrow(
      /databases\.pg-b: must be a postgres:\/\/ URL/,
    );
    expect(() => parseShardMap({ ...valid, version: 0 }, {})).toThrow(/version/);
  });

  it("without a file: one database holds every shard", () => {
    const map = singleDatabaseMap("postgres://127.0.0.1/x", 10_000);
    expect(databaseOfShard(map, 0)).toBe("main");
    expect(databaseOfShard(map, 9_999)).toBe("main");
  });
});

describe("account ids carry their shard", () => {
  it("round-trips every shard and is a valid RFC 9562 version 8 uuid", () => {
    for (const shard of [0, 1, 4_999, 5_000, 9_999, 2 ** 24 - 1]) {
      const id = mintAccountId(shard);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-b[0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(shardOfAccountId(id)).toBe(shard);
    }
    expect(() => mintAccountId(2 ** 24)).toThrow(RangeError);
  });

  it("ids minted elsewhere carry none: gen_random_uuid (v4) and tooling/seed's (v8, variant 8)", () => {
    expect(shardOfAccountId(randomUUID())).toBeNull();
    expect(shardOfAccountId("1a2b3c4d-0000-8000-8001-0123456789ab")).toBeNull();
  });
});
