/** `pnpm loadtest plan`: what a run will drive, as a table for people. */
import { BUSINESS_SHARE_OF_MESSAGES, LISTS_PER_SECOND } from "./model/figures";
import { executionSegments, type GeneratorPlan } from "./model/generators";
import { BREAKPOINT_MAX_FACTOR, ROWS_PER_UPLOAD_CALL, type Load, type Plan, type ScenarioName } from "./model/workload";

const n = (x: number) => (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(x >= 10 ? 1 : 2));
const pct = (x: number) => `${(x * 100).toFixed(x < 0.001 ? 4 : 1)}%`;

const scenarioNotes: Record<ScenarioName, (load: Load, plan: Plan) => string[]> = {
  steady: () => ["connected users send at the rate above; delivery latency and receipts measured on the delivered share"],
  "reconnect-storm": (load) => [
    `all ${n(load.connected)} connections drop at once, stay down OUTAGE s while ${n(load.messagesPerSecond)} msg/s keep queueing, then reconnect together`,
  ],
  rollout: () => [
    "every sample user acts on its consent behaviour over 30 simulated days (DAY_SECONDS real seconds each);",
    "holdouts must be locked out after the deadline; a sampled LAG_SAMPLE share of consent changes is followed",
    "until Facebook holds the new snapshot (share_pipeline_lag), and the outbox backlog is sampled every simulated day",
  ],
  "business-broadcast": (load) => [
    `business messages: ${n(load.messagesPerSecond * BUSINESS_SHARE_OF_MESSAGES.value)}/s (${pct(BUSINESS_SHARE_OF_MESSAGES.value)} of messages, assumption)`,
  ],
  breakpoint: (load) => [
    `holders connect as in steady; the send rate ramps (ramping-arrival-rate) from ${n(load.messagesPerSecond / 4)} to ${n(load.messagesPerSecond * BREAKPOINT_MAX_FACTOR)} msg/s`,
    "and the run aborts when delivery p99 or dropped iterations cross their thresholds: the rate reached then is the node's capacity",
  ],
  "custom-audience": (_load, plan) => {
    const a = plan.audiences;
    return [
      `Custom Audience lists: ${n(a.modelListsPerMinute)}/min in the model (the sample's share of ${n(LISTS_PER_SECOND * 60)}/min worldwide),`,
      `a run drives ${a.listsPerMinute}/min (at least one; --lists-per-minute to change), ${n(a.rowsPerList)} rows each in ${a.callsPerList} calls of ≤ ${n(ROWS_PER_UPLOAD_CALL)}`,
      "(the message-rate columns above do not apply to this scenario)",
    ];
  },
};

export function formatPlan(scenario: ScenarioName, plan: Plan, peak: boolean): string {
  const { sample } = plan;
  const columns: Array<[string, Load]> = [
    ["average day", plan.average],
    ["peak hour", plan.peakHour],
    ["NYE 2016 peak", plan.peak],
  ];
  const rows: Array<[string, (l: Load) => string]> = [
    ["concurrently connected", (l) => `${n(l.connected)} (${pct(l.connectedShare)})`],
    ["messages/s", (l) => n(l.messagesPerSecond)],
    ["  to connected sample users", (l) => n(l.deliveredPerSecond)],
    ["  to contacts outside the sample", (l) => n(l.outsideSendsPerSecond)],
  ];
  const width = 34;
  const col = 22;
  const lines = [
    `${scenario}: ${sample.shards} of ${sample.shardCount} shards of ${n(sample.population)} users`,
    `users in sample: ${n(plan.usersInSample)}   contacts inside the sample: ${pct(plan.contactsInSample)}`,
    "",
    "".padEnd(width) + columns.map(([name]) => name.padStart(col)).join(""),
    ...rows.map(([label, f]) => label.padEnd(width) + columns.map(([, l]) => f(l).padStart(col)).join("")),
    "",
    `a run drives the ${peak ? "NYE 2016 peak" : "average day"} column (${peak ? "drop --peak" : "add --peak"} for the ${peak ? "average" : "peak"})`,
    ...scenarioNotes[scenario](peak ? plan.peak : plan.average, plan),
  ];
  return lines.join("\n");
}

/** The generator section of `plan`: sockets, what one k6 process can hold, how many are needed and their segments. */
export function formatGenerators(g: GeneratorPlan, generators: number): string {
  const total = g.demand.websockets + g.demand.http;
  const lines = [
    "",
    `generators: ${n(total)} sockets to the messenger (${n(g.demand.websockets)} WebSockets + ${n(g.demand.http)} HTTP)`,
    `  one generator holds ${n(g.perGenerator)} (${g.limits.localIps} source address${g.limits.localIps === 1 ? "" : "es"} × ${n(g.limits.portsPerAddress)} ephemeral ports, ` +
      `${n(g.limits.openFiles)} open files; limited by ${g.limitedBy})`,
    `  generators needed: ${Number.isFinite(g.needed) ? g.needed : "∞ (no sockets at all)"}${generators > 1 ? `, given: ${generators}` : ""}`,
  ];
  if (generators > 1) {
    const { segments, sequence } = executionSegments(generators);
    lines.push(`  run one k6 per generator (same script, same FIXTURES path, same -e values):`);
    segments.forEach((segment, i) => lines.push(`    generator ${i + 1}: k6 run --execution-segment ${segment} --execution-segment-sequence ${sequence} …`));
  }
  return lines.join("\n");
}

/** Why one generator (or the given number) cannot hold the plan, or null when it can. */
export function generatorRefusal(g: GeneratorPlan, generators: number): string | null {
  if (g.needed <= generators) return null;
  const total = g.demand.websockets + g.demand.http;
  const ips = Math.ceil(total / g.limits.portsPerAddress);
  return (
    `${generators === 1 ? "one generator" : `${generators} generators`} cannot hold ${n(total)} sockets (${n(g.perGenerator)} each, limited by ${g.limitedBy}): ` +
    (g.limitedBy === "ephemeral ports"
      ? `add source addresses (--local-ips 127.0.0.2-127.0.0.${1 + ips} with loopback aliases, see README) or `
      : "raise the hard open-files limit or ") +
    `split the run over --generators ${g.needed}`
  );
}
