#!/usr/bin/env node
// `pnpm check`: type check, lint and every test, then one plain summary line.
// Each step runs even when an earlier one failed, so one run shows everything.
// Type check and lint count as one check each; vitest contributes its tests.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";

const results = { passed: 0, failed: 0, skipped: 0 };
const step = (name, command, args) => {
  console.log(`\n=== ${name}: ${command} ${args.join(" ")}`);
  const started = Date.now();
  const run = spawnSync(command, args, { stdio: "inherit", env: { ...process.env, FORCE_COLOR: process.env.CI ? "0" : "1" } });
  console.log(`=== ${name}: ${run.status === 0 ? "ok" : "FAILED"} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return run.status === 0;
};

const typecheck = step("typecheck", "pnpm", ["--silent", "typecheck", "--output-logs=errors-only"]);
if (typecheck) results.passed++;
else results.failed++;
const lint = step("lint", "pnpm", ["--silent", "lint"]);
if (lint) results.passed++;
else results.failed++;

const report = ".artifacts/vitest-results.json";
rmSync(report, { force: true });
const tests = step("tests", "pnpm", ["--silent", "vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`]);
if (existsSync(report)) {
  const summary = JSON.parse(readFileSync(report, "utf8"));
  results.passed += summary.numPassedTests;
  results.failed += summary.numFailedTests;
  results.skipped += summary.numPendingTests + summary.numTodoTests;
  // A suite that failed to load has no failed *tests*; count it so it is not silent.
  const brokenSuites = summary.testResults.filter((file) => file.status === "failed" && file.assertionResults.length === 0);
  results.failed += brokenSuites.length;
  if (summary.numTotalTests === 0) {
    console.log("vitest ran no test");
    results.failed++;
  }
} else if (!tests) {
  results.failed++;
}

const ok = typecheck && lint && tests && results.failed === 0;
console.log(`\n${results.passed} passed, ${results.failed} failed${results.skipped ? `, ${results.skipped} skipped` : ""}`);
process.exit(ok ? 0 : 1);
