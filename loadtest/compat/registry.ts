/**
 * What the shims saw while a scenario ran under the compat smoke: checks and
 * metric samples. Not a load measurement: just enough to fail on a failed check.
 */
export interface CheckOutcome {
  name: string;
  ok: boolean;
}

interface Registry {
  checks: CheckOutcome[];
  samples: Map<string, number[]>;
  reset(): void;
  failedChecks(): string[];
  values(metric: string): number[];
}

// One registry per process even when vitest re-evaluates modules between scenarios.
const shared = globalThis as { __k6CompatRegistry?: Registry; __k6CompatExecution?: typeof executionDefaults };

const fresh: Registry = {
  checks: [] as CheckOutcome[],
  samples: new Map<string, number[]>(),
  reset() {
    this.checks = [];
    this.samples = new Map();
  },
  failedChecks(): string[] {
    return [...new Set(this.checks.filter((c) => !c.ok).map((c) => c.name))];
  },
  values(metric: string): number[] {
    return this.samples.get(metric) ?? [];
  },
};

export const registry: Registry = (shared.__k6CompatRegistry ??= fresh);

/** k6/execution's view of the current iteration, set by the harness. */
const executionDefaults = {
  scenario: { name: "", executor: "", iterationInTest: 0, iterationInInstance: 0, startTime: 0, progress: 0 },
  vu: { idInTest: 1, idInInstance: 1, iterationInScenario: 0, iterationInInstance: 0, tags: {}, metrics: { tags: {}, metadata: {} } },
};

export const executionContext = (shared.__k6CompatExecution ??= executionDefaults);
