/**
 * Runs a k6 scenario module's exported functions a few times under the shims:
 * setup(), every scenario's exec function on a few "VUs" at once (as k6 would run
 * them side by side), teardown(). A smoke for CI, not a load generator: no
 * executors, no rates, no thresholds — only "does each iteration run and pass its
 * checks against the real server".
 */
import { executionContext } from "./registry";

interface ScenarioOptions {
  executor: string;
  exec?: string;
  vus?: number;
  preAllocatedVUs?: number;
  startTime?: string;
}

interface ScenarioModule {
  options: { scenarios: Record<string, ScenarioOptions> };
  setup?: () => unknown;
  teardown?: (data: unknown) => unknown;
  [name: string]: unknown;
}

const seconds = (duration: string | undefined) => (duration ? Number.parseFloat(duration) : 0);

export async function runScenarioModule(mod: ScenarioModule, { maxVus = 4, arrivalIterations = 12 } = {}): Promise<string[]> {
  const data = mod.setup ? await mod.setup() : undefined;
  const runs: Promise<unknown>[] = [];
  const ran: string[] = [];
  for (const [name, scenario] of Object.entries(mod.options.scenarios)) {
    const fn = mod[scenario.exec ?? "default"];
    if (typeof fn !== "function") throw new Error(`scenario ${name}: no exported function "${scenario.exec}"`);
    ran.push(name);
    const arrival = scenario.executor.includes("arrival-rate");
    const count = arrival ? arrivalIterations : Math.min(maxVus, scenario.vus ?? 1);
    const start = Math.min(5, seconds(scenario.startTime)) * 1000;
    runs.push(
      (async () => {
        if (start > 0) await new Promise((resolve) => setTimeout(resolve, start));
        const iterations: Promise<unknown>[] = [];
        for (let i = 0; i < count; i++) {
          executionContext.scenario.name = name;
          executionContext.scenario.executor = scenario.executor;
          executionContext.scenario.iterationInTest = i;
          executionContext.vu.idInTest = i + 1;
          // Called synchronously right after setting the context, as the scripts read it first thing.
          iterations.push((fn as (d: unknown) => Promise<unknown>)(data));
          if (arrival) await new Promise((resolve) => setTimeout(resolve, 250));
        }
        await Promise.all(iterations);
      })(),
    );
  }
  await Promise.all(runs);
  if (mod.teardown) await mod.teardown(data);
  return ran;
}
