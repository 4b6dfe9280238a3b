/** `pnpm loadtest plan|run <scenario> …` (wiring only). */
import { parseArgs } from "node:util";
import { plan, SCENARIOS, type ScenarioName } from "./model/workload";
import { formatPlan } from "./plan-output";
import { K6Missing } from "./runner/k6";
import { runScenario } from "./runner/run";

const usage = `usage:
  pnpm loadtest plan <scenario> --shards k [--shard-count S] [--peak]
  pnpm loadtest run  <scenario> --shards k [--shard-count S] [--peak] [--duration s]
                     [--target http://127.0.0.1:4100 [--admin-token T]] [--fixtures dir] [--users-per-vu n]
scenarios: ${SCENARIOS.join(", ")}   (custom-audience: later, with apps/facebook)`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    shards: { type: "string" },
    "shard-count": { type: "string", default: "10000" },
    peak: { type: "boolean", default: false },
    duration: { type: "string", default: "60" },
    target: { type: "string" },
    "admin-token": { type: "string" },
    fixtures: { type: "string" },
    "users-per-vu": { type: "string", default: "200" },
    help: { type: "boolean", short: "h" },
  },
});

const [command, scenario] = positionals;
if (values.help || !command || !["plan", "run"].includes(command)) {
  console.log(usage);
  process.exit(values.help ? 0 : 2);
}
if (!SCENARIOS.includes(scenario as ScenarioName)) {
  console.error(`unknown scenario "${scenario ?? ""}"\n${usage}`);
  process.exit(2);
}
const integer = (name: string, raw: string | undefined) => {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer\n${usage}`);
    process.exit(2);
  }
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
      fixtures: values.fixtures,
      usersPerVu: integer("users-per-vu", values["users-per-vu"]),
    });
    process.exit(report.passed ? 0 : 1);
  }
} catch (error) {
  if (error instanceof K6Missing) {
    console.error(`error: ${error.message}`);
    process.exit(3);
  }
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
