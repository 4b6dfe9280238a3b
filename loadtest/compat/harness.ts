/**
 * Runs a k6 scenario module's exported functions a few times under the shims:
 * options checked as k6 checks them, setup(), every scenario's exec function on a
 * few "VUs" at once (as k6 would run them side by side, from their startTime),
 * teardown(), then handleSummary with the summary k6 would give it. A smoke for CI,
 * not a load generator: arrival-rate scenarios get a dozen iterations spread over
 * their duration, per-VU scenarios at most `maxVus` VUs.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { checkOptions } from "./k6-options";
import { summaryData, writeJsonOutput } from "./k6-summary";
import { iterationScope, registry, type IterationContext } from "./registry";

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

export async function runScenarioModule(mod: ScenarioModule, { maxVus = 4, arrivalIterations = 12 } = {}): Promise<SmokeRun> {
  checkOptions(mod.options as Record<string, unknown>, registry.metrics);
  const testStart = Date.now();
  const data = mod.setup ? await mod.setup() : undefined;
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
          const context: IterationContext = {
            scenario: { name, executor: scenario.executor, iterationInTest: i, iterationInInstance: i, startTime, progress: 0 },
            vu: { idInTest: i + 1, idInInstance: i + 1, iterationInScenario: arrival ? 0 : 0, iterationInInstance: 0, tags: {}, metrics: { tags: {}, metadata: {} } },
          };
          iterations.push(iterationScope.run(context, () => (fn as (d: unknown) => Promise<unknown>)(data)));
          if (arrival) registry.add("iterations", 1, { scenario: name });
          if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
        }
        await Promise.all(iterations);
      })(),
    );
  }
  await Promise.all(runs);
  if (mod.teardown) await mod.teardown(data);
  const summary = summaryData(mod.options, Date.now() - testStart, data);
  if (mod.handleSummary) {
    const files = mod.handleSummary(summary);
    for (const [file, content] of Object.entries(files)) {
      if (file === "stdout" || file === "stderr") continue;
      await writeFile(file, content);
      // Beside the summary, the samples as `--out json` writes them (what the merge reads).
      await writeJsonOutput(path.join(path.dirname(file), "metrics.json"));
    }
  }
  return { ran, summary };
}
