/** `pnpm loadtest plan`: what a run will drive, as a table for people. */
import { BUSINESS_SHARE_OF_MESSAGES, LISTS_PER_SECOND } from "./model/figures";
import { ROWS_PER_UPLOAD_CALL, type Load, type Plan, type ScenarioName } from "./model/workload";

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
