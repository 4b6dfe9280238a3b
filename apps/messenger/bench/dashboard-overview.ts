/**
 * The overview's counting at scale: a scratch embedded PostgreSQL with N accounts
 * (default 1,000,000), one device each, and consent events for 70 % of them; then
 * the figures the overview reads, timed the old way (count(*) over the tables) and
 * the new way (the trigger-kept tallies). Also times the bulk insert with and without
 * the tally triggers, since the seeder pays for them.
 *
 *   pnpm --filter @handshake/messenger exec tsx bench/dashboard-overview.ts [accounts] [runs]
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { SHARING_POLICY_VERSION } from "@handshake/consent";
import { ensureDatabase, startEmbeddedPostgres } from "@handshake/db/embedded";
import { migrateDatabase } from "@handshake/db/migrate";

const accounts = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 7);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const dir = await mkdtemp(path.join(tmpdir(), "handshake-bench-dashboard-"));
// As root, PostgreSQL runs as the `postgres` user, which must be able to enter the folder.
await chmod(dir, 0o755);
const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, "pg"), ephemeral: true });
try {
  const url = await ensureDatabase(pg.url, "bench_dashboard");
  await migrateDatabase(url, "messenger");
  const sql = postgres(url, { max: 2, onnotice: () => {} });


  /** Inserts `n` accounts from `from` with a device each and consent for 70 %. */
  const fill = (sql: postgres.Sql, from: number, n: number) =>
    sql.begin(async (tx) => {
      await tx`
        insert into accounts (phone_number, country, shard, kind, created_at)
        select '+1' || lpad(g::text, 10, '0'), (array['IN','BR','ID','US','DE','MX','NG','GB'])[1 + g % 8], g % 10000,
               case when g % 50 = 0 then 'business' else 'personal' end, now()
        from generate_series(${from}::int, ${from + n - 1}::int) g`;
      await tx`
        insert into devices (account_id, device_id, credential_hash, os, os_version, app_version, model, created_at)
        select id, 1, '\\x00'::bytea, 'android', '6.0', '2.16', 'x', now() from accounts
        where phone_number >= ${`+1${String(from).padStart(10, "0")}`} and phone_number <= ${`+1${String(from + n - 1).padStart(10, "0")}`}`;
      await tx`
        insert into consent_events (account_id, kind, policy_version, share_with_facebook, method, at)
        select id, 'terms-accepted', ${SHARING_POLICY_VERSION}, (hashtext(id::text) % 5 <> 0), 'ticked-at-acceptance', now() from accounts
        where phone_number >= ${`+1${String(from).padStart(10, "0")}`} and phone_number <= ${`+1${String(from + n - 1).padStart(10, "0")}`}
          and hashtext(phone_number) % 10 < 7`;
    });

  // The insert's cost with and without the triggers: the first 100k rows here, and the
  // same rows into a second database whose tally triggers are off.
  const batch = Math.min(100_000, accounts / 10);
  const withTriggers = await timed(() => fill(sql, 1, batch));
  const bareUrl = await ensureDatabase(pg.url, "bench_dashboard_bare");
  await migrateDatabase(bareUrl, "messenger");
  const bare = postgres(bareUrl, { max: 1, onnotice: () => {} });
  await bare`alter table accounts disable trigger user`;
  await bare`alter table devices disable trigger user`;
  await bare`alter table consent_events disable trigger consent_events_tally`;
  const withoutTriggers = await timed(() => fill(bare, 1, batch));
  await bare.end();
  for (let from = 1 + batch; from <= accounts; from += batch) await fill(sql, from, Math.min(batch, accounts - from + 1));
  await sql`vacuum analyze`;

  const oldWay = () => sql`
    select (select count(*)::int from accounts) as total,
           (select count(*)::int from accounts where kind = 'personal') as personal,
           (select count(*)::int from accounts where kind = 'business') as business,
           (select count(distinct shard)::int from accounts) as shards,
           (select count(*)::int from devices) as devices,
           (select json_agg(c) from (select country, count(*)::int as accounts from accounts group by country order by accounts desc, country) c) as countries,
           (select count(distinct account_id) filter (where kind = 'terms-accepted' and policy_version = ${SHARING_POLICY_VERSION})::int from consent_events) as accepted,
           (select count(distinct account_id) filter (where kind = 'terms-accepted' and share_with_facebook = false)::int from consent_events) as unticked,
           (select count(distinct account_id) filter (where kind = 'share-opted-out')::int from consent_events) as opted`;
  const newWay = () => sql`
    select (select coalesce(sum(accounts), 0)::int from account_tallies) as total,
           (select coalesce(sum(accounts), 0)::int from account_tallies where kind = 'personal') as personal,
           (select coalesce(sum(accounts), 0)::int from account_tallies where kind = 'business') as business,
           (select count(*)::int from shard_tallies where accounts > 0) as shards,
           (select coalesce(sum(n), 0)::int from tallies where name = 'devices') as devices,
           (select json_agg(c) from (select country, sum(accounts)::int as accounts from account_tallies group by country having sum(accounts) > 0 order by accounts desc, country) c) as countries,
           (select coalesce(sum(n), 0)::int from tallies where name = ${`consent:accepted:${SHARING_POLICY_VERSION}`}) as accepted,
           (select coalesce(sum(n), 0)::int from tallies where name = 'consent:unticked') as unticked,
           (select coalesce(sum(n), 0)::int from tallies where name = 'consent:opted-out') as opted`;

  const [before] = await oldWay();
  const [after] = await newWay();
  if (JSON.stringify(before) !== JSON.stringify(after)) {
    throw new Error(`the tallies disagree with the counts:\n${JSON.stringify(before)}\n${JSON.stringify(after)}`);
  }
  const oldTimes: number[] = [];
  const newTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    oldTimes.push(await timed(oldWay));
    newTimes.push(await timed(newWay));
  }
  console.log(`overview figures over ${accounts.toLocaleString("en-US")} accounts (${runs} runs, same figures both ways):`);
  console.log(`  count(*) over the tables  median ${median(oldTimes).toFixed(1)} ms  (min ${Math.min(...oldTimes).toFixed(1)}, max ${Math.max(...oldTimes).toFixed(1)})`);
  console.log(`  trigger-kept tallies      median ${median(newTimes).toFixed(2)} ms  (min ${Math.min(...newTimes).toFixed(2)}, max ${Math.max(...newTimes).toFixed(2)})`);
  console.log(`  ratio                     ${(median(oldTimes) / median(newTimes)).toFixed(0)}x`);
  console.log(`bulk insert of ${batch.toLocaleString("en-US")} accounts + devices + consent: ${withTriggers.toFixed(0)} ms with the tally triggers, ${withoutTriggers.toFixed(0)} ms without`);
  await sql.end();
} finally {
  await pg.stop();
  await rm(dir, { recursive: true, force: true });
}
