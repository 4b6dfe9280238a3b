/** `pnpm loadtest plan|run <scenario> …` (wiring only). */
import { parseArgs } from "node:util";
import { plan, SCENARIOS, type ScenarioName } from "./model/workload";
import { formatPlan } from "./plan-output";
import { K6Missing } from "./runner/k6";
import { runScenario } from "./runner/run";

const usage = `usage:
  pnpm loadtest plan <scenario> --shards k [--shard-count S] [--peak]
  pnpm loadtest run  <scenario> --shards k [--shard-count S] [--peak] [--duration s]
                     [--target http://127.0.0.1:4100 [--admin-token T] [--facebook-target http://127.0.0.1:4200]]
                     [--fixtures dir] [--users-per-vu n] [--lists-per-minute n] [--lag-sample p]
scenarios: ${SCENARIOS.join(", ")}
  --lists-per-minute  custom-audience: customer lists per minute (default: the plan's, at least 1)
  --lag-sample        rollout: share of consent changes followed to Facebook (default 0.05)
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
      help: { type: "boolean", short: "h", default: false },
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
if (!["plan", "run"].includes(command)) usageError(`unknown command "${command}"`);
if (!SCENARIOS.includes(scenario as ScenarioName)) usageError(`unknown scenario "${scenario ?? ""}"`);
if (positionals.length > 2) usageError(`unexpected argument "${positionals[2]}"`);
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

try {
  if (command === "plan") {
    console.log(formatPlan(scenario as ScenarioName, plan({ shards, shardCount }), values.peak));
  } else {
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
