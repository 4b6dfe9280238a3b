/**
 * Runs a k6 scenario module's exported functions a few times under the shims:
 * options checked as k6 checks them, setup(), every scenario's exec function on a
 * few "VUs" at once (as k6 would run them side by side, from their startTime),
 * teardown(), then handleSummary with the summary k6 would give it. A smoke for CI,
 * not a load generator: arrival-rate scenarios get a dozen iterations spread over
 * their duration, per-VU scenarios at most `maxVus` VUs.
 *
 * `segment` runs one generator's share, as `k6 run --execution-segment i/n:(i+1)/n`
 * would: every n-th VU and every n-th arrival, setup() run again (as each k6-operator
 * runner does), its samples kept apart and its files written to `outDir`.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { checkOptions } from "./k6-options";
import { summaryData, writeJsonOutput } from "./k6-summary";
import { iterationScope, registry, type IterationContext, type Sample } from "./registry";

interface ScenarioOptions {
  executor: string;
  exec?: string;
  vus?: number;
  startTime?: string;
  duration?: string;
  stages?: Array<{ duration: string }>;
}

interface ScenarioModule {
  options: { scenarios: Record<string, ScenarioOptions>; thresholds?: Record<string, Array<string | { threshold: string }>> };
  setup?: () => unknown;
  teardown?: (data: unknown) => unknown;
  handleSummary?: (data: unknown) => Record<string, string>;
  [name: string]: unknown;
}

const seconds = (duration: string | undefined) => {
  if (!duration) return 0;
  let total = 0;
  for (const [, n, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(n) * { ms: 0.001, s: 1, m: 60, h: 3600 }[unit as "ms" | "s" | "m" | "h"];
  return total;
};

export interface SmokeRun {
  ran: string[];
  /** What handleSummary was given. */
  summary: Record<string, unknown>;
}

export interface HarnessOptions {
  maxVus?: number;
  arrivalIterations?: number;
  segment?: { index: number; count: number };
  /** Where handleSummary's files go (default: where it says). */
  outDir?: string;
}

export async function runScenarioModule(mod: ScenarioModule, { maxVus = 4, arrivalIterations = 12, segment, outDir }: HarnessOptions = {}): Promise<SmokeRun> {
  checkOptions(mod.options as Record<string, unknown>, registry.metrics);
  const sink: Sample[] = segment ? [] : registry.samples;
  const mine = (i: number) => !segment || i % segment.count === segment.index;
  const testStart = Date.now();
  const setupContext: IterationContext = {
    sink,
    scenario: { name: "", executor: "", iterationInTest: 0, iterationInInstance: 0, startTime: testStart, progress: 0 },
    vu: { idInTest: 0, idInInstance: 0, iterationInScenario: 0, iterationInInstance: 0, tags: {}, metrics: { tags: {}, metadata: {} } },
  };
  const data = mod.setup ? await iterationScope.run(setupContext, () => mod.setup!()) : undefined;
  const runs: Promise<unknown>[] = [];
  const ran: string[] = [];
  for (const [name, scenario] of Object.entries(mod.options.scenarios)) {
    const fn = mod[scenario.exec ?? "default"];
    if (typeof fn !== "function") throw new Error(`scenario ${name}: no exported function "${scenario.exec}"`);
    ran.push(name);
    const arrival = scenario.executor.includes("arrival-rate");
    const count = arrival ? arrivalIterations : Math.min(maxVus, scenario.vus ?? 1);
    const span = seconds(scenario.duration) || (scenario.stages ?? []).reduce((a, s) => a + seconds(s.duration), 0);
    const gap = arrival ? Math.min(1000, (span * 1000) / count) : 0;
    const startAfter = Math.min(10, seconds(scenario.startTime)) * 1000;
    runs.push(
      (async () => {
        if (startAfter > 0) await new Promise((resolve) => setTimeout(resolve, startAfter));
        const startTime = Date.now();
        const iterations: Promise<unknown>[] = [];
        for (let i = 0; i < count; i++) {
          if (!mine(i)) {
            if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
            continue;
          }
          const context: IterationContext = {
            sink,
            scenario: { name, executor: scenario.executor, iterationInTest: i, iterationInInstance: i, startTime, progress: 0 },
            vu: { idInTest: i + 1, idInInstance: i + 1, iterationInScenario: 0, iterationInInstance: 0, tags: {}, metrics: { tags: {}, metadata: {} } },
          };
          iterations.push(iterationScope.run(context, () => (fn as (d: unknown) => Promise<unknown>)(data)));
          if (arrival) iterationScope.run(context, () => registry.add("iterations", 1));
          if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
        }
        await Promise.all(iterations);
      })(),
    );
  }
  await Promise.all(runs);
  if (mod.teardown) await mod.teardown(data);
  const summary = summaryData(mod.options, Date.now() - testStart, data, sink);
  if (mod.handleSummary) {
    const files = mod.handleSummary(summary);
    for (const [returned, content] of Object.entries(files)) {
      if (returned === "stdout" || returned === "stderr") continue;
      const file = outDir ? path.join(outDir, path.basename(returned)) : returned;
      await writeFile(file, content);
      // Beside the summary, the samples as `--out json` writes them (what the merge reads).
      await writeJsonOutput(path.join(path.dirname(file), "metrics.json"), sink);
    }
  }
  return { ran, summary };
}
