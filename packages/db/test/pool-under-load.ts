/**
 * Child process for postgres-restart.test.ts: one postgres.js pool (the project's
 * `rawClient`) under many concurrent queries, plain and in transactions, small and
 * over postgres.js's 1 KiB write-buffer threshold, until stdin closes.
 *
 * Prints a JSON line with its counters every 50 ms; the error codes it saw tell the
 * test that every failure was a catchable connection error, not a crash.
 * Usage: node --import tsx pool-under-load.ts <database-url> [workers]
 */
import { rawClient } from "../src/client";

const [url, workersArg] = process.argv.slice(2);
if (!url) {
  console.error("usage: pool-under-load.ts <database-url> [workers]");
  process.exit(2);
}
const sql = rawClient(url, { max: 10, applicationName: "pool-under-load" });
await sql`create table if not exists restart_load (id bigserial primary key, worker int not null, body text not null)`;

const counts = { ok: 0, failed: 0, errors: {} as Record<string, number> };
let running = true;

async function worker(index: number) {
  // Bodies from 10 bytes to ~3 KiB: postgres.js writes small messages on a
  // setImmediate and large ones at once; both paths meet the restart.
  const body = "x".repeat(10 + index * 97);
  while (running) {
    try {
      if (index % 3 === 0) {
        await sql.begin(async (tx) => {
          await tx`insert into restart_load (worker, body) values (${index}, ${body})`;
          await tx`select count(*) from restart_load where worker = ${index}`;
        });
      } else if (index % 3 === 1) {
        await sql`select ${index}::int as worker, ${body}::text as body`;
      } else {
        await sql`insert into restart_load (worker, body) select ${index}, ${body} from generate_series(1, 3)`;
      }
      counts.ok++;
    } catch (error) {
      counts.failed++;
      const code = String((error as { code?: unknown }).code ?? (error as Error).name);
      counts.errors[code] = (counts.errors[code] ?? 0) + 1;
      // PostgreSQL is down: do not spin.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

const workers = Array.from({ length: Number(workersArg ?? 60) }, (_, index) => worker(index));
const report = setInterval(() => console.log(JSON.stringify(counts)), 50);

process.stdin.resume();
process.stdin.on("end", () => {
  running = false;
  void Promise.all(workers)
    .then(() => sql.end({ timeout: 5 }))
    .then(() => {
      clearInterval(report);
      console.log(JSON.stringify({ ...counts, done: true }));
      process.exit(0);
    });
});
