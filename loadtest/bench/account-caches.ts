/**
 * `pnpm bench caches`: what a miss of the messenger's per-account caches costs — the
 * consent state (`storage/consent.ts`: the account's facts and its consent events, folded)
 * and the current restriction (`storage/restrictions.ts`). A real messenger server in this
 * process over an embedded PostgreSQL, nothing else running.
 *
 *   pnpm bench caches [--accounts 4000] [--rounds 8] [--concurrency 20]
 *
 * Why it matters: with several nodes the consent cache's entries go stale after 5 s and
 * restrictions after 10 s, so at the workload model's rate (a connected device sends
 * every few minutes) nearly every send and ack of a realistic load reloads both. Each
 * round drops the consent cache and asks for every account (`--concurrency` at once);
 * restrictions are asked for accounts never seen before, so every call loads. CPU is this
 * process's (user + system) per load, the database's not included; medians over the
 * rounds after the first (warm-up).
 */
import { randomUUID } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { ensureDatabase, startEmbeddedPostgres } from "@handshake/db/embedded";
import { createLogger } from "@handshake/messenger/log";
import { createMessengerServer } from "@handshake/messenger/server";
import { benchOptions, wholeOption } from "./bench-args";

const usage = `usage: pnpm bench caches [--accounts 4000] [--rounds 8] [--concurrency 20]
  --accounts n     accounts with a consent history (default 4000, at most 100000)
  --rounds n       measured rounds after one warm-up round (default 8, at most 50)
  --concurrency n  loads in flight at once (default 20, at most 1000)`;

const values = benchOptions(usage, { accounts: "4000", rounds: "8", concurrency: "20" });
const whole = (name: string, raw: string, max: number) => wholeOption(usage, name, raw, max);
const accountCount = whole("accounts", values.accounts, 100_000);
const rounds = whole("rounds", values.rounds, 50);
const concurrency = whole("concurrency", values.concurrency, 1000);

const scratch = await mkdtemp(path.join(tmpdir(), "handshake-bench-caches-"));
await chmod(scratch, 0o755);
const pg = await startEmbeddedPostgres({ dataDir: path.join(scratch, "pg") });
try {
  const databaseUrl = await ensureDatabase(pg.url, "bench_caches");
  const server = await createMessengerServer({ databaseUrl, logger: createLogger({ level: "silent" }), rateLimits: false });
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  try {
    process.stdout.write(`seeding ${accountCount.toLocaleString("en")} accounts, each with a terms acceptance… `);
    await sql`insert into accounts (phone_number, country, shard, created_at)
      select '+4915' || lpad(i::text, 9, '0'), 'DE', 0, '2015-01-01T00:00:00Z' from generate_series(1, ${accountCount}) i`;
    await sql`insert into consent_events (account_id, kind, policy_version, share_with_facebook, at)
      select id, 'terms-accepted', '2016-08-25', true, '2016-09-01T00:00:00Z' from accounts`;
    const ids = (await sql<{ id: string }[]>`select id from accounts`).map((row) => row.id);
    console.log("done");

    const { consent, restrictions } = server.services;
    let errors = 0;
    const each = async (keys: string[], work: (key: string) => Promise<unknown>) => {
      let next = 0;
      const started = performance.now();
      const cpu = process.cpuUsage();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < keys.length) await work(keys[next++]!).catch(() => (errors += 1));
        }),
      );
      const used = process.cpuUsage(cpu);
      return { cpuUs: (used.user + used.system) / keys.length, wallUs: ((performance.now() - started) * 1000) / keys.length };
    };
    const consentRuns: { cpuUs: number; wallUs: number }[] = [];
    const restrictionRuns: { cpuUs: number; wallUs: number }[] = [];
    for (let round = 0; round <= rounds; round++) {
      consent.invalidate();
      const c = await each(ids, (id) => consent.get(id));
      const r = await each(ids.map(() => randomUUID()), (id) => restrictions.current(id));
      if (round > 0) {
        consentRuns.push(c);
        restrictionRuns.push(r);
      }
    }
    const median = (runs: { cpuUs: number; wallUs: number }[], key: "cpuUs" | "wallUs") =>
      [...runs].sort((a, b) => a[key] - b[key])[Math.floor(runs.length / 2)]![key].toFixed(0).padStart(6);
    console.log(`\naccount caches: a miss, ${accountCount.toLocaleString("en")} accounts, ${concurrency} loads at once, medians of ${rounds} rounds`);
    console.log("  cache          µs CPU/load  µs wall/load");
    console.log(`  consent             ${median(consentRuns, "cpuUs")}        ${median(consentRuns, "wallUs")}`);
    console.log(`  restriction         ${median(restrictionRuns, "cpuUs")}        ${median(restrictionRuns, "wallUs")}`);
    console.log(`  errors: ${errors} (CPU: this process, PostgreSQL's not included)`);
    if (errors > 0) process.exitCode = 1;
  } finally {
    await sql.end();
    await server.close();
  }
} finally {
  await pg.stop();
  await rm(scratch, { recursive: true, force: true });
}
