/**
 * `pnpm test:faults [--full] [--only a,b]`: the fault suite from the command line.
 * Prints a table per fault, exits 1 when any fault lost, duplicated or left
 * consent in disagreement (or a service crashed), 2 on bad usage.
 */
import { parseArgs } from "node:util";
import { FAULTS, formatTable, FULL, SHORT, FaultSuite, stopAllFaultStacks, type FaultResult } from "./index";

const usage = `usage: pnpm test:faults [--full] [--only ${FAULTS.map((f) => f.name).join(",")}]
  --full     the benchmark form: more load, Facebook down 20 s (pnpm bench faults)
  --only     run only these faults (comma-separated)`;

let values;
try {
  ({ values } = parseArgs({
    options: { full: { type: "boolean", default: false }, only: { type: "string" }, help: { type: "boolean", short: "h", default: false } },
  }));
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}\n${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const wanted = values.only?.split(",").map((s) => s.trim()).filter(Boolean);
const unknown = wanted?.filter((name) => !FAULTS.some((f) => f.name === name)) ?? [];
if (unknown.length > 0) {
  console.error(`error: unknown fault ${unknown.join(", ")}\n${usage}`);
  process.exit(2);
}
const faults = wanted ? FAULTS.filter((f) => wanted.includes(f.name)) : FAULTS;
const size = values.full ? FULL : SHORT;

const started = Date.now();
console.log(`fault suite (${size.name} form): ${faults.length} faults, 127.0.0.1 only`);
let suite: FaultSuite | null = null;
let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  await suite?.stop().catch(() => {});
  await stopAllFaultStacks().catch(() => {});
  process.exit(code);
};
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void stop(130));

/** Runs the faults and prints the table; the exit code (the signal handler exits on its own). */
async function run(): Promise<number> {
  const results: FaultResult[] = [];
  try {
    suite = await FaultSuite.start(size, faults, (line) => console.log(line));
    for (const fault of faults) {
      if (stopping) break;
      const result = await suite.run(fault);
      results.push(result);
      console.log(`${result.failures.length === 0 ? "PASS" : "FAIL"} ${fault.name} (${(result.durationMs / 1000).toFixed(1)} s)`);
    }
  } catch (error) {
    if (stopping) return 130;
    console.error(`the suite could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 2;
  }
  if (stopping) return 130;
  console.log(`\n${formatTable(results)}`);
  const failed = results.filter((r) => r.failures.length > 0).length;
  console.log(`\n${results.length - failed} passed, ${failed} failed  (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  return failed > 0 ? 1 : 0;
}

await stop(await run());
