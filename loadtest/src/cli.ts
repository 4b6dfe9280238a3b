/** `pnpm loadtest plan|run <scenario> …` (wiring only). */
import { parseArgs } from "node:util";
import { countLocalIps, generatorPlan } from "./model/generators";
import { connectionDemand, plan, SCENARIOS, type ScenarioName } from "./model/workload";
import { formatGenerators, formatPlan, generatorRefusal } from "./plan-output";
import { ephemeralPorts, hardOpenFiles } from "./runner/machine-limits";
import { findK6, K6Missing } from "./runner/k6";
import { runScenario } from "./runner/run";

const usage = `usage:
  pnpm loadtest plan <scenario> --shards k [--shard-count S] [--peak] [--users-per-vu n]
                     [--generators n] [--local-ips 127.0.0.2-127.0.0.5] [--open-files n] [--ports-per-address n]
  pnpm loadtest run  <scenario> --shards k [--shard-count S] [--peak] [--duration s]
                     [--target http://127.0.0.1:4100 [--admin-token T] [--facebook-target http://127.0.0.1:4200]]
                     [--fixtures dir] [--users-per-vu n] [--lists-per-minute n] [--lag-sample p]
                     [--local-ips range] [--open-files n] [--web-dashboard]
  pnpm loadtest merge --scenario s --shards k [--shard-count S] [--peak] [--duration s] --out dir <run dir>…
scenarios: ${SCENARIOS.join(", ")}
  --lists-per-minute  custom-audience: customer lists per minute (default: the plan's, at least 1)
  --lag-sample        rollout: share of consent changes followed to Facebook (default 0.05)
  --generators        plan: k6 instances the run is split over (execution segments; default 1)
  --local-ips         source addresses for k6 (its --local-ips syntax); each gives another ~28k ports
  --open-files        a generator's hard open-files limit (default: this machine's)
  --web-dashboard     run: also export k6's web dashboard (k6-dashboard.html) beside the report
  -h, --help          this text`;

function usageError(message: string): never {
  console.error(`error: ${message}\n${usage}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      shards: { type: "string" },
      "shard-count": { type: "string", default: "10000" },
      peak: { type: "boolean", default: false },
      duration: { type: "string", default: "60" },
      target: { type: "string" },
      "admin-token": { type: "string" },
      "facebook-target": { type: "string" },
      fixtures: { type: "string" },
      "users-per-vu": { type: "string", default: "200" },
      "lists-per-minute": { type: "string" },
      "lag-sample": { type: "string", default: "0.05" },
      generators: { type: "string", default: "1" },
      "local-ips": { type: "string" },
      "open-files": { type: "string" },
      "ports-per-address": { type: "string" },
      "web-dashboard": { type: "boolean", default: false },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
      scenario: { type: "string" },
    },
  });
} catch (error) {
  // e.g. ERR_PARSE_ARGS_UNKNOWN_OPTION: say which option, then how to call.
  usageError(error instanceof Error ? error.message : String(error));
}
const { positionals, values } = parsed;

if (values.help) {
  console.log(usage);
  process.exit(0);
}
const [command, scenario] = positionals;
if (!command) usageError("give a command: plan or run");
if (!["plan", "run", "merge"].includes(command)) usageError(`unknown command "${command}"`);
if (command !== "merge" && !SCENARIOS.includes(scenario as ScenarioName)) usageError(`unknown scenario "${scenario ?? ""}"`);
if (command !== "merge" && positionals.length > 2) usageError(`unexpected argument "${positionals[2]}"`);
const integer = (name: string, raw: string | undefined) => {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) usageError(`--${name} must be a positive integer${raw === undefined ? "" : `, got "${raw}"`}`);
  return value;
};
const share = (name: string, raw: string) => {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) usageError(`--${name} must be a number in [0, 1], got "${raw}"`);
  return value;
};
const shards = integer("shards", values.shards);
const shardCount = integer("shard-count", values["shard-count"]);

/** The generator plan for this scenario at the level asked for, or exits 2 (before anything starts) when it cannot hold. */
function checkGenerators(name: ScenarioName, generators: number, print: boolean): void {
  let localIps = 1;
  try {
    localIps = values["local-ips"] === undefined ? 1 : countLocalIps(values["local-ips"]);
  } catch (error) {
    usageError((error as Error).message);
  }
  const p = plan({ shards, shardCount });
  const load = values.peak ? p.peak : p.average;
  const usersPerVu = integer("users-per-vu", values["users-per-vu"]);
  const g = generatorPlan(connectionDemand(name, load, p.usersInSample, usersPerVu), {
    localIps,
    portsPerAddress: values["ports-per-address"] === undefined ? ephemeralPorts() : integer("ports-per-address", values["ports-per-address"]),
    openFiles: values["open-files"] === undefined ? hardOpenFiles() : integer("open-files", values["open-files"]),
  });
  if (print) console.log(formatGenerators(g, generators));
  const refusal = generatorRefusal(g, generators);
  if (refusal) {
    console.error(`error: ${refusal}`);
    process.exit(2);
  }
}

try {
  if (command === "plan") {
    console.log(formatPlan(scenario as ScenarioName, plan({ shards, shardCount }), values.peak));
    checkGenerators(scenario as ScenarioName, integer("generators", values.generators), true);
  } else if (command === "merge") {
    const { mergeRuns } = await import("./report/merge-runs");
    if (!values.scenario || !SCENARIOS.includes(values.scenario as ScenarioName)) usageError(`merge: give --scenario (one of ${SCENARIOS.join(", ")})`);
    if (!values.out) usageError("merge: give --out <dir> for the merged report");
    if (positionals.length < 2) usageError("merge: give the run directories (each with summary.json) to merge");
    const report = await mergeRuns({
      scenario: values.scenario as ScenarioName,
      shards,
      shardCount,
      peak: values.peak,
      durationSeconds: integer("duration", values.duration),
      out: values.out,
      runs: positionals.slice(1),
    });
    process.exit(report.passed ? 0 : 1);
  } else {
    findK6(); // no k6 (or one older than 1.6): exit 3 with install instructions, before anything else
    // `run` drives one local generator: refuse a plan it cannot hold before anything starts.
    checkGenerators(scenario as ScenarioName, 1, false);
    const report = await runScenario({
      scenario: scenario as ScenarioName,
      shards,
      shardCount,
      peak: values.peak,
      durationSeconds: integer("duration", values.duration),
      target: values.target,
      adminToken: values["admin-token"],
      facebookTarget: values["facebook-target"],
      fixtures: values.fixtures,
      usersPerVu: integer("users-per-vu", values["users-per-vu"]),
      listsPerMinute: values["lists-per-minute"] === undefined ? undefined : integer("lists-per-minute", values["lists-per-minute"]),
      lagSample: share("lag-sample", values["lag-sample"]),
      localIps: values["local-ips"],
      webDashboard: values["web-dashboard"],
    });
    process.exit(report.passed ? 0 : 1);
  }
} catch (error) {
  if (error instanceof K6Missing) {
    console.error(`error: ${error.message}`);
    process.exit(3);
  }
  if (error instanceof RangeError) usageError(error.message);
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
