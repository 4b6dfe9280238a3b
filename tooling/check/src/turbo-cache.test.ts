import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// `pnpm check` is one turbo run; this proves our turbo.json makes a second run with no
// change come from the cache, and that the shared config files are cache inputs.
// A cache folder of its own, so neither other runs nor this one's parent turbo (this
// test may itself run as a turbo task) decide what hits.
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const cacheDir = await mkdtemp(path.join(tmpdir(), "handshake-turbo-cache-"));
afterAll(() => rm(cacheDir, { recursive: true, force: true }));

// The smallest workspace with both tasks, and its dependency (through the transit task).
const FILTER = "@handshake/test-postgres";

interface DryRun {
  globalCacheInputs: { files: Record<string, string> };
  tasks: { taskId: string; task: string; cache: { status: string }; dependencies: string[] }[];
}

function turbo(...args: string[]) {
  // Drop the parent turbo task's variables so this is a run of its own.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TURBO_")));
  const run = spawnSync("pnpm", ["exec", "turbo", "run", "typecheck", "lint", `--filter=${FILTER}`, `--cache-dir=${cacheDir}`, ...args], {
    cwd: repo,
    env: { ...env, TURBO_TELEMETRY_DISABLED: "1", FORCE_COLOR: "0" },
    encoding: "utf8",
    timeout: 240_000,
  });
  expect(run.status, `turbo ${args.join(" ")}:\n${run.stdout}\n${run.stderr}`).toBe(0);
  return run.stdout;
}

const dryRun = () => JSON.parse(turbo("--dry=json")) as DryRun;
const statuses = (dry: DryRun) => Object.fromEntries(dry.tasks.filter((t) => t.task !== "transit").map((t) => [t.taskId, t.cache.status]));

describe("turbo's cache for pnpm check", () => {
  it("hashes the shared configs: tsconfig.base.json, eslint.config.js and vitest.config.ts", () => {
    expect(Object.keys(dryRun().globalCacheInputs.files)).toEqual(expect.arrayContaining(["tsconfig.base.json", "eslint.config.js", "vitest.config.ts"]));
  });

  it("makes typecheck depend on the dependencies' sources (transit), so their change is a miss", () => {
    const typecheck = dryRun().tasks.find((t) => t.taskId === `${FILTER}#typecheck`)!;
    expect(typecheck.dependencies).toContain(`${FILTER}#transit`);
    const transit = dryRun().tasks.find((t) => t.taskId === `${FILTER}#transit`)!;
    expect(transit.dependencies).toContain("@handshake/db#transit");
  });

  it("runs typecheck and lint once, then a second run with no change comes from the cache", { timeout: 300_000 }, () => {
    expect(statuses(dryRun())).toEqual({ [`${FILTER}#typecheck`]: "MISS", [`${FILTER}#lint`]: "MISS" });
    const first = turbo("--output-logs=none");
    expect(first).toMatch(/Cached:\s+0 cached, 2 total/);
    expect(statuses(dryRun())).toEqual({ [`${FILTER}#typecheck`]: "HIT", [`${FILTER}#lint`]: "HIT" });
    const second = turbo("--output-logs=none");
    expect(second).toMatch(/Cached:\s+2 cached, 2 total/);
    expect(second).toContain("FULL TURBO");
  });
});
