/**
 * The world `pnpm dev` seeds on first start: one shard of a small population
 * (2,000 people, a few of them businesses, plus 200 outside stubs standing for
 * their contacts in the other shard), small enough to seed in seconds. The
 * simulator acts as these seeded accounts: their ids and device credentials are
 * pure functions of the spec (`sampleIdentity`), so no file passes between the
 * seeder and the simulator.
 */
import postgres from "postgres";
import type { ShardMap } from "@handshake/db/messenger-shards";
import { createSpec, shardRange, userCoreAt, type PopulationSpec } from "@handshake/population";
import { sampleIdentity, seedSample, type SeedProgress, type SeedResult } from "@handshake/seed";

/** 4,000 people in 2 shards; the world is shard 0. */
export const WORLD_SPEC: PopulationSpec = createSpec({ size: 4_000, shardCount: 2 });
export const WORLD_SHARDS: readonly number[] = [0];
/** Outside stubs: contacts in the unseeded shard map onto these (see tooling/seed). */
export const WORLD_OUTSIDE = 200;

/** Population ids of the world's people (the sampled shard, in order). */
export function worldUserIds(spec: PopulationSpec = WORLD_SPEC, shards: readonly number[] = WORLD_SHARDS): number[] {
  const ids: number[] = [];
  for (const shard of shards) {
    const { start, end } = shardRange(spec, shard);
    for (let i = start; i < end; i++) ids.push(i);
  }
  return ids;
}

/** How many of the world's accounts the messenger's database holds. */
export async function worldAccountsPresent(databaseUrl: string, spec: PopulationSpec = WORLD_SPEC, shardCount?: number): Promise<number> {
  const identity = sampleIdentity(spec, shardCount ? { shardCount } : {});
  return countAccounts(databaseUrl, "id", worldUserIds(spec).map((i) => identity.accountId(i)));
}

/** How many of the world's phone numbers the messenger's database holds, under any account id. */
function worldPhonesPresent(databaseUrl: string, spec: PopulationSpec): Promise<number> {
  return countAccounts(databaseUrl, "phone_number", worldUserIds(spec).map((i) => userCoreAt(spec, i).phone));
}

/** Accounts whose `column` is one of `values` (0 on a database no service has migrated yet). */
async function countAccounts(databaseUrl: string, column: "id" | "phone_number", values: string[]): Promise<number> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [table] = await sql<{ present: boolean }[]>`select to_regclass('public.accounts') is not null as present`;
    if (!table?.present) return 0;
    // Each compared as its own type, so the primary key's and the phone's unique index serve it.
    const [row] =
      column === "id"
        ? await sql<{ n: number }[]>`select count(*)::int as n from accounts where id = any(${values}::uuid[])`
        : await sql<{ n: number }[]>`select count(*)::int as n from accounts where phone_number = any(${values}::text[])`;
    return row?.n ?? 0;
  } finally {
    await sql.end();
  }
}

export interface SeedWorldOptions {
  messengerDatabaseUrl: string;
  /** The Facebook side's database; null seeds the messenger only. */
  facebookDatabaseUrl: string | null;
  spec?: PopulationSpec;
  /** The messenger's shard map, if it has one (`pnpm dev --shard-databases N`): accounts go to their shard's database. */
  shardMap?: ShardMap | null;
  /** The messenger's shard count without a map (its SHARD_COUNT; default 10,000); the simulator must use the same. */
  shardCount?: number;
  onProgress?: (event: SeedProgress) => void;
}

export type SeedWorldOutcome = { seeded: false; present: number } | { seeded: true; result: SeedResult };

/**
 * Seeds the world unless the messenger's database already holds it (every
 * account of the shard present: a second start costs one query). A run that was
 * cut short is completed on the next start (seeding is idempotent).
 */
export async function seedWorldOnce(options: SeedWorldOptions): Promise<SeedWorldOutcome> {
  const spec = options.spec ?? WORLD_SPEC;
  const shardCount = options.shardMap?.shardCount ?? options.shardCount;
  const present = await worldAccountsPresent(options.messengerDatabaseUrl, spec, shardCount);
  if (present >= worldUserIds(spec).length) return { seeded: false, present };
  if (present === 0 && (await worldPhonesPresent(options.messengerDatabaseUrl, spec)) > 0) {
    throw new Error(
      "this database holds a world seeded under other account ids (before seeded ids carried their shard, or under another " +
        "SHARD_COUNT); the simulator could not sign its people in. Start from empty databases: stop `pnpm dev` and remove .data/",
    );
  }
  const result = await seedSample({
    spec,
    shards: WORLD_SHARDS,
    databaseUrl: options.messengerDatabaseUrl,
    shardMap: options.shardMap ?? null,
    facebookDatabaseUrl: options.facebookDatabaseUrl,
    fixturesDir: null,
    outside: WORLD_OUTSIDE,
    batchSize: 500,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return { seeded: true, result };
}
