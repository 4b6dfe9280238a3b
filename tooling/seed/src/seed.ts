/**
 * Seeding a sample: every target (the messenger, and the Facebook side when it has
 * a database) gets the sample's users (then the outside pool) in batches, several
 * batches in flight so PostgreSQL works while the next batch is generated; the
 * targets take each batch at the same time; the fixture files are written
 * meanwhile.
 */
import { performance } from "node:perf_hooks";
import type { ShardMap } from "@handshake/db/messenger-shards";
import { type PopulationSpec, parseShardList } from "@handshake/population";
import { type AddressBookOptions, DEFAULT_ADDRESS_BOOKS } from "./address-books";
import { writeFixtures } from "./fixtures";
import { sampleIdentity } from "./identity";
import type { SeedKeySet } from "./key-set";
import { type Sample, outsidePool, sampleUserCount, seedBatches } from "./sample";
import { facebookTarget } from "./targets/facebook";
import { businessDisplayName, messengerTarget } from "./targets/messenger";
import type { SeedTarget, TableCounts } from "./targets/target";

export interface SeedOptions {
  spec: PopulationSpec;
  /** Shard numbers (any order, duplicates ignored). */
  shards: readonly number[];
  /** The messenger's database (migrated by the run); with a shard map, its home database. */
  databaseUrl: string;
  /**
   * The messenger's shard map, if it runs with one: accounts are written to their
   * shard's database and home gets their directory rows; the ids' shards are taken
   * modulo the map's shard count. Without one, every account goes to `databaseUrl`
   * (ids carry shards modulo the default 10,000, which a map added later follows).
   */
  shardMap?: ShardMap | null;
  /** The Facebook side's database (migrated by the run); absent or null: the messenger only. */
  facebookDatabaseUrl?: string | null;
  /** Address books uploaded to Facebook (default: share 0.3, at most 50 entries each). */
  addressBooks?: Partial<AddressBookOptions>;
  /** Where meta.json and users.json go; null skips the fixtures (benchmarks). */
  fixturesDir: string | null;
  /** One-time EC prekeys per device (default 5). */
  prekeys?: number;
  /** Outside stub accounts (default 1000, capped by the users outside the sample). */
  outside?: number;
  /** Users per COPY batch (default 10,000). */
  batchSize?: number;
  /** Batches in flight, i.e. database connections per target (default 2). */
  concurrency?: number;
  /** Reuse a key set instead of generating one (tests). */
  keySet?: SeedKeySet;
  /** Wall-clock time written to meta.json (default now). */
  now?: () => Date;
  onProgress?: (event: SeedProgress) => void;
}

/** Progress: users seeded so far (phase `seed`) or written to users.json (phase `fixtures`). */
export interface SeedProgress {
  phase: "seed" | "fixtures";
  done: number;
  total: number;
  /** Phase `seed`: rows added so far, by target (`{ messenger, facebook }`). */
  rows?: Record<string, number>;
}

/** Rows one table received. */
export interface TableResult {
  target: string;
  table: string;
  rows: number;
}

export interface SeedResult {
  sample: Sample;
  /** Users seeded: the sample's users plus the outside pool. */
  users: number;
  /** Names of the targets seeded, in report order (`messenger`, then `facebook` when it had a database). */
  targets: string[];
  /** Rows inserted per table (0 everywhere on a repeated run). */
  tables: TableResult[];
  /**
   * Users the first target (the messenger) did not add: already there, or their
   * phone taken by another account.
   */
  skipped: number;
  /** Wall-clock seconds spent inserting rows (all targets). */
  seedSeconds: number;
  /**
   * Seconds per step, summed over batches: `generate` (population users, ids,
   * credentials) and each target's own steps as `<target>.<step>`.
   */
  timings: Record<string, number>;
  /** Seconds spent producing users.json, concurrently with seeding (0 when skipped). */
  fixtureSeconds: number;
  /** Users written to users.json (0 when skipped). */
  fixtureUsers: number;
}

/** Runs `batches` through `work` with at most `concurrency` in flight; fails fast. */
async function runPool<T>(
  batches: Iterator<T>,
  concurrency: number,
  work: (batch: T) => Promise<void>,
  spent: { generate: number },
): Promise<void> {
  let failed = false;
  const worker = async () => {
    while (!failed) {
      const t0 = performance.now();
      const next = batches.next();
      spent.generate += (performance.now() - t0) / 1000;
      if (next.done) return;
      try {
        await work(next.value);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Materialises a sample of the population into the messenger's database and writes
 * the fixture files. Idempotent: seeding the same sample again inserts nothing and
 * rewrites identical fixtures (but for meta.createdAt).
 */
export async function seedSample(options: SeedOptions): Promise<SeedResult> {
  const { spec } = options;
  const prekeys = options.prekeys ?? 5;
  const concurrency = options.concurrency ?? 2;
  const batchSize = options.batchSize ?? 10_000;
  const shards = parseShardList(options.shards.join(","), spec.shardCount);
  if (shards.length === 0) throw new RangeError("no shards to seed");
  const sample: Sample = { spec, shards, outside: outsidePool(spec, shards, options.outside ?? 1000) };
  const identity = sampleIdentity(spec, options.shardMap ? { shardCount: options.shardMap.shardCount } : {});
  const total = sampleUserCount(spec, shards) + sample.outside.length;

  const targets: SeedTarget[] = [
    messengerTarget({
      databaseUrl: options.databaseUrl,
      shardMap: options.shardMap ?? null,
      prekeys,
      concurrency,
      ...(options.keySet ? { keySet: options.keySet } : {}),
    }),
  ];
  if (options.facebookDatabaseUrl) {
    const addressBooks = { ...DEFAULT_ADDRESS_BOOKS, ...options.addressBooks };
    if (!(addressBooks.share >= 0 && addressBooks.share <= 1)) throw new RangeError(`address-book share must be in [0, 1], got ${addressBooks.share}`);
    if (!Number.isSafeInteger(addressBooks.max) || addressBooks.max < 0) throw new RangeError(`address-book max must be an integer >= 0, got ${addressBooks.max}`);
    targets.push(facebookTarget({ spec, databaseUrl: options.facebookDatabaseUrl, concurrency, addressBooks }));
  }
  const counts = new Map<string, TableCounts>(targets.map((t) => [t.name, Object.fromEntries(t.tables.map((n) => [n, 0]))]));
  const rowsAdded = (): Record<string, number> =>
    Object.fromEntries([...counts].map(([name, tables]) => [name, Object.values(tables).reduce((a, b) => a + b, 0)]));
  let skipped = 0;
  let seedSeconds = 0;
  const spent = { generate: 0 };
  const seeding = (async () => {
    try {
      for (const target of targets) await target.prepare();
      const started = performance.now();
      let done = 0;
      options.onProgress?.({ phase: "seed", done, total, rows: rowsAdded() });
      await runPool(
        seedBatches(sample, identity, batchSize),
        concurrency,
        async (batch) => {
          // the targets' databases work on the same batch at once (separate transactions:
          // a failure stops the run, and the next run completes what one target missed)
          const settled = await Promise.allSettled(targets.map((target) => target.seedBatch(batch)));
          const failure = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
          if (failure) throw failure.reason;
          const added = settled.map((r) => (r as PromiseFulfilledResult<TableCounts>).value);
          targets.forEach((target, k) => {
            const sum = counts.get(target.name)!;
            for (const [table, n] of Object.entries(added[k]!)) sum[table] = (sum[table] ?? 0) + n;
          });
          skipped += batch.length - (added[0]![targets[0]!.userTable] ?? 0);
          done += batch.length;
          options.onProgress?.({ phase: "seed", done, total, rows: rowsAdded() });
        },
        spent,
      );
      seedSeconds = (performance.now() - started) / 1000;
    } finally {
      for (const target of targets) await target.close();
    }
  })();

  // users.json is written while the database works (contacts cost Node CPU, the
  // inserts cost PostgreSQL CPU), and put in place only once seeding succeeded.
  const fixtureTotal = sampleUserCount(spec, shards);
  const seedingFailed = new AbortController();
  seeding.catch(() => seedingFailed.abort(new Error("seeding failed")));
  const fixtures =
    options.fixturesDir === null
      ? Promise.resolve({ users: 0, seconds: 0 })
      : writeFixtures({
          dir: options.fixturesDir,
          sample,
          identity,
          // read once seeding is done: a target's section may count what it seeded
          targets: () => Object.fromEntries(targets.map((t) => [t.name, t.fixtureMeta()])),
          createdAt: (options.now ?? (() => new Date()))(),
          displayName: businessDisplayName,
          onProgress: (n) => options.onProgress?.({ phase: "fixtures", done: n, total: fixtureTotal }),
          beforeCommit: () => seeding,
          signal: seedingFailed.signal,
        });
  // allSettled: on failure, return only once the fixture writer has cleaned up
  const [seeded, written] = await Promise.allSettled([seeding, fixtures]);
  if (seeded.status === "rejected") throw seeded.reason;
  if (written.status === "rejected") throw written.reason;

  return {
    sample,
    users: total,
    targets: targets.map((t) => t.name),
    tables: targets.flatMap((t) => t.tables.map((table) => ({ target: t.name, table, rows: counts.get(t.name)![table] ?? 0 }))),
    skipped,
    seedSeconds,
    timings: {
      generate: spent.generate,
      ...Object.fromEntries(targets.flatMap((t) => Object.entries(t.timings()).map(([k, v]) => [`${t.name}.${k}`, v]))),
    },
    fixtureSeconds: written.value.seconds,
    fixtureUsers: written.value.users,
  };
}
