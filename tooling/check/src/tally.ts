/**
 * The arithmetic behind `pnpm check`'s closing line, from turbo's run summary and
 * each package's vitest JSON report (pure: main.ts reads the files).
 *
 * - Type check and lint count as one check each: every package's task must pass.
 * - Every vitest test counts (passed, failed; skipped and todo as skipped).
 * - A test file that failed to load has no failed test: it counts as one failure.
 * - A package whose test task wrote no report, ran no test, or failed outside its
 *   tests (global setup, an unhandled error) counts as one failure.
 * - No test run at all counts as a failure, so a run that executed nothing is visible.
 */

/** The part of a turbo `--summarize` task entry used here. */
export interface TurboTask {
  task: string;
  package: string;
  directory: string;
  cache?: { status?: string };
  execution?: { exitCode?: number | null };
}

/** The part of vitest's JSON report used here. */
export interface VitestReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: { name: string; status: string; assertionResults: unknown[] }[];
}

export interface Tally {
  passed: number;
  failed: number;
  skipped: number;
  /** Sentences naming what failed and where. */
  problems: string[];
}

/** The checks that count as one each, by the turbo tasks they consist of. */
export const SINGLE_CHECKS: Record<string, string[]> = { typecheck: ["typecheck"], lint: ["lint", "lint:root"] };

export function tally(tasks: TurboTask[] | null, readReport: (task: TurboTask) => VitestReport | null): Tally {
  const result: Tally = { passed: 0, failed: 0, skipped: 0, problems: [] };
  const fail = (problem: string) => {
    result.failed++;
    result.problems.push(problem);
  };
  if (!tasks) {
    fail("turbo wrote no run summary (did it start?)");
    return result;
  }
  const failedTask = (task: TurboTask) => task.execution?.exitCode !== 0;

  for (const [name, kinds] of Object.entries(SINGLE_CHECKS)) {
    const mine = tasks.filter((task) => kinds.includes(task.task));
    const failed = mine.filter(failedTask);
    if (mine.length === 0) fail(`${name}: no task ran`);
    else if (failed.length > 0) fail(`${name} failed in ${failed.map((task) => task.package).join(", ")}`);
    else result.passed++;
  }

  let executed = 0;
  for (const task of tasks.filter((t) => t.task === "test")) {
    const report = readReport(task);
    if (!report) {
      fail(`${task.package}: vitest wrote no report (exit ${task.execution?.exitCode}); see its log above`);
      continue;
    }
    result.passed += report.numPassedTests;
    result.failed += report.numFailedTests;
    result.skipped += report.numPendingTests + report.numTodoTests;
    executed += report.numPassedTests + report.numFailedTests;
    const broken = report.testResults.filter((file) => file.status === "failed" && file.assertionResults.length === 0);
    for (const file of broken) fail(`${task.package}: ${file.name} failed to load`);
    if (report.numTotalTests === 0) fail(`${task.package}: vitest ran no test`);
    else if (failedTask(task) && report.numFailedTests === 0 && broken.length === 0) {
      fail(`${task.package}: vitest failed outside the tests (exit ${task.execution?.exitCode}); see its log above`);
    }
  }
  if (executed === 0) fail("no test ran in any package");
  return result;
}

/** The closing line: `N passed, N failed` (and `, N skipped` when some were). */
export function closingLine({ passed, failed, skipped }: Tally): string {
  return `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`;
}
