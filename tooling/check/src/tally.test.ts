import { describe, expect, it } from "vitest";
import { closingLine, tally, type TurboTask, type VitestReport } from "./tally";

const task = (name: string, pkg: string, exitCode = 0): TurboTask => ({ task: name, package: pkg, directory: pkg, execution: { exitCode } });
const report = (passed: number, failed = 0, extra: Partial<VitestReport> = {}): VitestReport => ({
  numTotalTests: passed + failed,
  numPassedTests: passed,
  numFailedTests: failed,
  numPendingTests: 0,
  numTodoTests: 0,
  testResults: [{ name: "a.test.ts", status: failed ? "failed" : "passed", assertionResults: Array.from({ length: passed + failed }) }],
  ...extra,
});
const checks = [task("typecheck", "a"), task("typecheck", "b"), task("lint", "a"), task("lint:root", "//")];

describe("tally", () => {
  it("counts type check and lint once each and every test of every package", () => {
    const reports: Record<string, VitestReport> = { a: report(3), b: report(4, 1) };
    const result = tally([...checks, task("test", "a"), task("test", "b", 1)], (t) => reports[t.package] ?? null);
    expect(result).toMatchObject({ passed: 2 + 7, failed: 1, skipped: 0 });
    expect(closingLine(result)).toBe("9 passed, 1 failed");
  });

  it("counts a failed type check in any package as one failed check and names it", () => {
    const result = tally([task("typecheck", "a"), task("typecheck", "b", 2), task("lint", "a"), task("test", "a")], () => report(1));
    expect(result).toMatchObject({ passed: 2, failed: 1 });
    expect(result.problems).toEqual(["typecheck failed in b"]);
  });

  it("counts a test file that failed to load, which has no failed test", () => {
    const broken = report(2, 0, { testResults: [{ name: "broken.test.ts", status: "failed", assertionResults: [] }] });
    const result = tally([...checks, task("test", "a", 1)], () => broken);
    expect(result.failed).toBe(1);
    expect(result.problems).toEqual(["a: broken.test.ts failed to load"]);
  });

  it("counts a package whose vitest wrote no report, or ran no test, or failed outside its tests", () => {
    const reports: Record<string, VitestReport | null> = { none: null, empty: report(0), setup: report(5) };
    const result = tally([...checks, task("test", "none", 1), task("test", "empty", 1), task("test", "setup", 1)], (t) => reports[t.package] ?? null);
    expect(result.failed).toBe(3);
    expect(result.passed).toBe(2 + 5);
    expect(result.problems).toEqual([
      "none: vitest wrote no report (exit 1); see its log above",
      "empty: vitest ran no test",
      "setup: vitest failed outside the tests (exit 1); see its log above",
    ]);
  });

  it("makes a run that executed no test visible as a failure", () => {
    expect(tally(checks, () => null)).toMatchObject({ failed: 1, problems: ["no test ran in any package"] });
    expect(tally(null, () => null)).toMatchObject({ failed: 1, problems: ["turbo wrote no run summary (did it start?)"] });
  });

  it("reports skipped and todo tests as skipped", () => {
    const result = tally([...checks, task("test", "a")], () => report(2, 0, { numPendingTests: 1, numTodoTests: 2, numTotalTests: 5 }));
    expect(closingLine(result)).toBe("4 passed, 0 failed, 3 skipped");
  });
});
