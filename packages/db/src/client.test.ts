import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMessengerDb, drizzleOn, type MessengerDb } from "./client";
import { migrateDatabase } from "./migrate";
import { regimeChanges, usageCounters } from "./messenger/schema/index";
import { createTestDatabase, type TestDatabase } from "./testing";

// One pool serves drizzle and raw postgres.js: drizzle must not change what raw SQL
// reads (its driver swaps the client's date/json parsers), and its own values must
// still round-trip through postgres.js's parsers and serializers.
let testDb: TestDatabase;
let messenger: MessengerDb;

beforeAll(async () => {
  testDb = await createTestDatabase("client");
  await migrateDatabase(testDb.url, "messenger");
  messenger = createMessengerDb(testDb.url, { max: 2, applicationName: "client-test" });
});

afterAll(async () => {
  await messenger?.close();
  await testDb?.drop();
});

describe("createMessengerDb", () => {
  it("gives raw SQL Dates and objects, and drizzle the same values it wrote", async () => {
    const at = new Date("2016-08-25T12:34:56.789Z");
    const regime = { name: "historical-2016", purposes: ["ads"] };
    const [row] = await messenger.db.insert(regimeChanges).values({ regime, at }).returning();
    expect(row?.regime).toEqual(regime);
    expect(row?.at).toEqual(at);

    const [raw] = await messenger.sql<{ regime: unknown; at: unknown; kind: string }[]>`
      select regime, at, jsonb_typeof(regime) as kind from regime_changes where id = ${row!.id}`;
    expect(raw?.kind).toBe("object");
    expect(raw?.regime).toEqual(regime);
    expect(raw?.at).toBeInstanceOf(Date);
    expect(raw?.at).toEqual(at);

    const [read] = await messenger.db.select().from(regimeChanges).where(eq(regimeChanges.id, row!.id));
    expect(read?.regime).toEqual(regime);
    expect(read?.at).toEqual(at);
  });

  it("round-trips a date column in drizzle's string mode", async () => {
    const accountId = "00000000-0000-4000-8000-000000000001";
    const lastSeenAt = new Date("2016-08-25T23:59:59.000Z");
    await messenger.db.insert(usageCounters).values({ accountId, day: "2016-08-25", lastSeenAt });
    const [read] = await messenger.db.select().from(usageCounters).where(eq(usageCounters.accountId, accountId));
    expect(read?.day).toBe("2016-08-25");
    expect(read?.lastSeenAt).toEqual(lastSeenAt);
    const [raw] = await messenger.sql<{ day: string }[]>`
      select day::text as day from usage_counters where account_id = ${accountId}`;
    expect(raw?.day).toBe("2016-08-25");
  });

  it("opens one pool: drizzle and raw SQL together stay within max connections", async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0 ? messenger.db.select().from(regimeChanges) : messenger.sql`select pg_sleep(0.01)`,
      ),
    );
    const [count] = await messenger.sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity where application_name = 'client-test'`;
    expect(count?.n).toBeLessThanOrEqual(2);
  });

  it("runs drizzleOn(tx) queries inside the raw transaction: they roll back with it", async () => {
    const at = new Date("2016-09-01T00:00:00.000Z");
    const marker = { name: "rolled-back" };
    await expect(
      messenger.sql.begin(async (tx) => {
        await drizzleOn(tx).insert(regimeChanges).values({ regime: marker, at });
        const [seen] = await tx<{ n: number }[]>`select count(*)::int as n from regime_changes where regime = ${tx.json(marker)}`;
        expect(seen?.n).toBe(1);
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    const rows = await messenger.db.select().from(regimeChanges).where(eq(regimeChanges.at, at));
    expect(rows).toEqual([]);
    expect(drizzleOn(messenger.sql)).toBe(drizzleOn(messenger.sql));
  });
});
