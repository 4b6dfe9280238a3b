/**
 * `pnpm check`: type check, lint and every package's tests in one turbo run (cached:
 * a second run with no change replays the results instead of running anything),
 * then one plain closing line, `N passed, N failed` (see tally.ts for what counts).
 * Extra arguments go to turbo (`pnpm check --filter @handshake/db`).
 *
 * `--continue`: every task runs even when another failed, so one run shows everything.
 * `--concurrency=2`: the machines have 2 cores, and each package's vitest starts its own
 * PostgreSQL (tooling/test-postgres): at most two test runs and two servers at once.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { closingLine, tally, type TurboTask, type VitestReport } from "./tally";

const TASKS = ["typecheck", "lint", "lint:root", "test"];
const REPORT = ".artifacts/vitest-results.json"; // vitest.config.ts writes it there
const SUMMARIES = ".turbo/runs";

// Reports of an earlier run must not be counted: turbo writes (or restores from its cache) fresh ones.
const workspaces = JSON.parse(spawnSync("pnpm", ["-r", "ls", "--depth", "-1", "--json"], { encoding: "utf8" }).stdout || "[]") as { path: string }[];
for (const workspace of workspaces) rmSync(path.join(workspace.path, REPORT), { force: true });
const listSummaries = () => (existsSync(SUMMARIES) ? readdirSync(SUMMARIES) : []);
const before = new Set(listSummaries());

const started = Date.now();
console.log(`=== turbo run ${TASKS.join(" ")}`);
const run = spawnSync(
  "pnpm",
  ["exec", "turbo", "run", ...TASKS, "--continue", "--concurrency=2", "--summarize", "--output-logs=new-only", ...process.argv.slice(2)],
  { stdio: "inherit", env: { ...process.env, FORCE_COLOR: process.env.CI ? "0" : "1" } },
);
console.log(`=== turbo: exit ${run.status} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const summaryFile = listSummaries().find((file) => !before.has(file));
const summary = summaryFile ? (JSON.parse(readFileSync(path.join(SUMMARIES, summaryFile), "utf8")) as { tasks: TurboTask[] }) : null;
const tasks = summary ? summary.tasks.filter((task) => TASKS.includes(task.task)) : null;
if (tasks) console.log(`turbo: ${tasks.length} tasks, ${tasks.filter((task) => task.cache?.status === "HIT").length} from cache`);

const result = tally(tasks, (task) => {
  const report = path.join(task.directory, REPORT);
  return existsSync(report) ? (JSON.parse(readFileSync(report, "utf8")) as VitestReport) : null;
});
if (result.problems.length) console.log(`\n${result.problems.map((problem) => `  - ${problem}`).join("\n")}`);
console.log(`\n${closingLine(result)}`);
process.exit(run.status === 0 && result.failed === 0 ? 0 : 1);
