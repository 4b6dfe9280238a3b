import { TRPCError } from "@trpc/server";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase } from "@handshake/db/migrate";
import { createTestDatabase, type TestDatabase } from "@handshake/db/testing";
import { AudienceBudget, audienceBudgetCatalogue } from "./budget";
import { NOISE_FLOOR } from "./estimate";

let database: TestDatabase;
let sql: postgres.Sql;
beforeAll(async () => {
  database = await createTestDatabase("facebook");
  await migrateDatabase(database.url, "facebook");
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

describe("audience budget", () => {
  it("allows a day's uploads per advertiser, refuses the next with when to retry, refills over real time", async () => {
    let nowMs = 1_700_000_000_000;
    const budget = new AudienceBudget(sql, audienceBudgetCatalogue, () => nowMs);
    for (let i = 0; i < audienceBudgetCatalogue.audienceUpload.capacity; i++) await budget.spend("audienceUpload", "a");
    const refused = await budget.spend("audienceUpload", "a").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TRPCError);
    expect((refused as TRPCError).code).toBe("TOO_MANY_REQUESTS");
    expect((refused as TRPCError).message).toMatch(/budget "audienceUpload" exhausted \(200 .* per 24 h\); retry in 432 s/);
    // Another advertiser, and another limit, have their own buckets.
    await expect(budget.spend("audienceUpload", "b")).resolves.toBeUndefined();
    await expect(budget.spend("audienceCreate", "a")).resolves.toBeUndefined();
    nowMs += 432_000;
    await expect(budget.spend("audienceUpload", "a")).resolves.toBeUndefined();
    await expect(budget.spend("audienceUpload", "a")).rejects.toThrow(TRPCError);
  });

  it("makes the averaging attack slow: the default budget buys too few estimates per day", () => {
    // Telling n from n+1 at a bucket edge by averaging needs ~2·z²·s² fresh estimates per
    // list (README, "Custom Audiences"); at the smallest noise s = ±50 and z = 2: 20,000.
    const perDay = audienceBudgetCatalogue.audienceUpload.refillPerSecond * 86_400;
    const estimatesNeeded = 2 * 2 ** 2 * NOISE_FLOOR ** 2;
    expect(estimatesNeeded / perDay).toBeGreaterThanOrEqual(50);
  });
});
