/**
 * The report of one run (or of N generators' runs merged): loadtest/reports/<time>-<scenario>/
 * with the summary handleSummary wrote (summary.json), the time series
 * (metrics.json.gz), report.md and report.html.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { lineChart } from "./charts";
import { withDerivedMetrics } from "./derived";
import { percentile, stat, thresholdsOf, type K6Summary, type ThresholdResult, type TimeSeries } from "./k6-results";
import { project, type Level, type Projection } from "./projection";
import type { RateSpec } from "./rate";

export interface RunFacts {
  scenario: string;
  shards: number;
  shardCount: number;
  population: number;
  level: Level;
  /** What the achieved rate is measured in and against (rate.ts); null when the scenario plans no rate (rollout). */
  rate: RateSpec | null;
  durationSeconds: number;
  /** The k6 process's CPU (the runner samples it): peak cores used, of how many. */
  generatorCpu?: { peakCores: number; cores: number } | null;
  /** Generators whose runs this report merges (1 for a single run). */
  generators?: number;
  target: string;
  k6ExitCode: number | null;
  startedAt: Date;
}

export interface GeneratorHealth {
  droppedIterations: number;
  loopLagP99: number | null;
  cpuShare: number | null;
  saturated: boolean;
  reasons: string[];
}

/** Above these the generator, not the server, set the numbers (k6's own advice: keep CPU below ~80%). */
const SATURATION = { loopLagP99Ms: 100, cpuShare: 0.8 } as const;

/** Whether the load generator kept up: iterations k6 could not start, late timers, CPU. */
export function generatorHealth(summary: K6Summary, cpu: RunFacts["generatorCpu"], droppedMeanOverload = false): GeneratorHealth {
  const droppedIterations = stat(summary, "dropped_iterations", "count") ?? 0;
  const loopLagP99 = stat(summary, "generator_loop_lag", "p(99)");
  const cpuShare = cpu && cpu.cores > 0 ? cpu.peakCores / cpu.cores : null;
  const reasons: string[] = [];
  if (droppedIterations > 0 && !droppedMeanOverload) reasons.push(`k6 dropped ${droppedIterations} iterations (no free VU: the offered rate was not offered)`);
  if (loopLagP99 !== null && loopLagP99 > SATURATION.loopLagP99Ms) reasons.push(`VU timers fired ${Math.round(loopLagP99)} ms late (p99): frames were read late`);
  if (cpuShare !== null && cpuShare > SATURATION.cpuShare) reasons.push(`k6 used ${(cpuShare * 100).toFixed(0)}% of the generator's CPU at its peak`);
  return { droppedIterations, loopLagP99, cpuShare, saturated: reasons.length > 0, reasons };
}

export interface Report {
  facts: RunFacts;
  thresholds: ThresholdResult[];
  passed: boolean;
  generator: GeneratorHealth;
  /** In the rate spec's unit; null when the scenario plans no rate. */
  achievedMessagesPerSecond: number | null;
  projection: Projection;
  /** The services' own figures over the run (service-metrics.ts), [label, value]; empty when not scraped. */
  serverFigures: Array<[string, string]>;
  markdown: string;
  html: string;
}

const fmt = (v: number | null, unit = "") =>
  v === null ? "–" : `${v >= 100 ? Math.round(v).toLocaleString("en-US") : v < 1 && v > 0 ? v.toPrecision(4) : v.toFixed(1)}${unit}`;

/**
 * breakpoint: the highest send rate the node carried while delivery stayed within the
 * threshold — the best mean over `windowSeconds` consecutive seconds whose delivery p99
 * was under `limitMs` (from the JSON output's per-second buckets). null without data.
 */
export function breakpointCapacity(series: TimeSeries, limitMs = BREAKPOINT_P99_MS, windowSeconds = 5): number | null {
  let best: number | null = null;
  const seconds = series.seconds;
  for (let i = 0; i + windowSeconds <= seconds.length; i++) {
    const window = seconds.slice(i, i + windowSeconds);
    const p99 = percentile(window.flatMap((b) => b.latencies), 99);
    if (p99 === null || p99 >= limitMs) continue;
    const rate = window.reduce((a, b) => a + b.sent, 0) / windowSeconds;
    best = Math.max(best ?? 0, rate);
  }
  return best;
}

/** The breakpoint scenario's delivery threshold (scenarios/breakpoint.ts: p(99)<500). */
const BREAKPOINT_P99_MS = 500;
/** The breakpoint's abortOnFail thresholds: crossing them is how it ends, not a failure. */
const BREAKING = ["delivery_latency{scenario:breakpoint_holders}", "dropped_iterations{scenario:breakpoint}", "http_req_failed{scenario:breakpoint}"];

export function buildReport(facts: RunFacts, rawSummary: K6Summary, series: TimeSeries, serverFigures: Array<[string, string]> = []): Report {
  const summary = withDerivedMetrics(rawSummary);
  const thresholds = thresholdsOf(summary);
  // k6 exits 99 when a threshold failed; any other non-zero exit is a failed run too.
  const passed = thresholds.every((t) => t.ok) && (facts.k6ExitCode === null || facts.k6ExitCode === 0);
  const breakpoint = facts.scenario === "breakpoint";
  // In a breakpoint run, dropped iterations are how the server's overload shows (VUs pile up waiting): not the generator's.
  const generator = generatorHealth(summary, facts.generatorCpu, breakpoint);
  const counted = facts.rate ? stat(summary, facts.rate.metric, "count") : null;
  // A breakpoint run ramps past the plan until it breaks: what counts is the rate it carried, not its mean.
  const achievedMessagesPerSecond = !facts.rate
    ? null
    : breakpoint
      ? (breakpointCapacity(series) ?? 0)
      : counted !== null && facts.rate.windowSeconds > 0
        ? counted / facts.rate.windowSeconds
        : 0;
  const projection = project({
    shards: facts.shards,
    shardCount: facts.shardCount,
    population: facts.population,
    level: facts.level,
    // No planned rate (rollout): the node sustained the sample if the thresholds held.
    plannedMessagesPerSecond: facts.rate?.planned ?? 1,
    achievedMessagesPerSecond: achievedMessagesPerSecond ?? 1,
    // The breakpoint aborts by design when it crosses a threshold; its capacity is what it carried before.
    thresholdsPassed: breakpoint ? achievedMessagesPerSecond! > 0 && thresholds.every((t) => t.ok || BREAKING.includes(t.metric)) : passed,
    generatorSaturated: generator.saturated,
    abovePlan: breakpoint,
  });
  const report = { facts, thresholds, passed, generator, achievedMessagesPerSecond, projection, serverFigures };
  return { ...report, markdown: markdown(report, summary), html: html(report, summary, series) };
}

type Core = Omit<Report, "markdown" | "html">;

/** "194.3 msg/s planned, 190.1 achieved (over 60 s of sending)", or what a scenario without a planned rate did. */
function rateLine(r: Core, summary: K6Summary): string {
  const rate = r.facts.rate;
  if (!rate || r.achievedMessagesPerSecond === null) {
    const calls = stat(summary, "consent_calls", "count");
    return `no planned rate (users act on their fixture's days)${calls === null ? "" : `; ${fmt(calls)} consent calls`}`;
  }
  const digits = rate.planned < 1 ? 3 : 1;
  if (r.facts.scenario === "breakpoint") {
    return `capacity ${r.achievedMessagesPerSecond.toFixed(digits)} ${rate.unit}: the highest 5 s mean send rate with delivery p99 < ${BREAKPOINT_P99_MS} ms; the plan for these shards is ${rate.planned.toFixed(digits)}`;
  }
  return `${rate.planned.toFixed(digits)} ${rate.unit} planned, ${r.achievedMessagesPerSecond.toFixed(digits)} achieved over ${rate.windowSeconds.toFixed(0)} s of sending`;
}

function generatorLines(r: Core): string[] {
  const g = r.generator;
  const facts = [`dropped iterations ${g.droppedIterations}`, `VU timer lag p99 ${fmt(g.loopLagP99, " ms")}`, `k6 CPU peak ${g.cpuShare === null ? "–" : `${(g.cpuShare * 100).toFixed(0)}%`}`];
  return g.saturated
    ? [`**The generator was saturated** (${g.reasons.join("; ")}): these numbers describe the generator, not the server. Split the run over more generators (\`pnpm loadtest plan … --generators n\`).`, facts.join(", ") + "."]
    : [`The generator kept up: ${facts.join(", ")}.`];
}

/** Rows for metrics only some scenarios record (shown when the run has them). */
function scenarioNumbers(summary: K6Summary): Array<[string, string]> {
  const trio = (metric: string) => ["med", "p(95)", "p(99)"].map((k) => fmt(stat(summary, metric, k), " ms")).join(" / ");
  const rows: Array<[string, string | null]> = [
    ["share pipeline lag p50 / p95 / p99", stat(summary, "share_pipeline_lag", "med") === null ? null : trio("share_pipeline_lag")],
    ["share pipeline: followed changes that arrived", stat(summary, "share_pipeline_arrived", "rate") === null ? null : fmt(percentOf(stat(summary, "share_pipeline_arrived", "rate")), " %")],
    ["share outbox pending (last / max)", stat(summary, "share_outbox_pending", "value") === null ? null : `${fmt(stat(summary, "share_outbox_pending", "value"))} / ${fmt(stat(summary, "share_outbox_pending", "max"))}`],
    ["audience lists / upload calls", stat(summary, "audience_lists", "count") === null ? null : `${fmt(stat(summary, "audience_lists", "count"))} / ${fmt(stat(summary, "audience_uploads", "count"))}`],
    ["audience upload latency p50 / p95 / p99", stat(summary, "audience_upload_latency", "med") === null ? null : trio("audience_upload_latency")],
    ["audience size latency p50 / p95 / p99", stat(summary, "audience_size_latency", "med") === null ? null : trio("audience_size_latency")],
    ["audience answers that leaked", stat(summary, "audience_leaks", "count") === null ? null : fmt(stat(summary, "audience_leaks", "count"))],
    ["audience budget refusals", stat(summary, "audience_budget_refusals", "count") === null ? null : fmt(stat(summary, "audience_budget_refusals", "count"))],
  ];
  return rows.filter((r): r is [string, string] => r[1] !== null);
}

function keyNumbers(summary: K6Summary): Array<[string, string]> {
  return [
    ...scenarioNumbers(summary),
    ["messages sent", fmt(stat(summary, "messages_sent", "count"))],
    ["messages received", fmt(stat(summary, "messages_received", "count"))],
    ["delivery latency p50 / p95 / p99", ["med", "p(95)", "p(99)"].map((k) => fmt(stat(summary, "delivery_latency", k), " ms")).join(" / ")],
    ["receipt latency p99", fmt(stat(summary, "receipt_latency", "p(99)"), " ms")],
    ["delivered (receipts / receipts expected)", fmt(percentOf(stat(summary, "delivered", "rate")), " %")],
    ["error rate", fmt(percentOf(stat(summary, "errors", "rate")), " %")],
    ["transport errors (no HTTP answer)", fmt(stat(summary, "transport_errors", "count") ?? 0)],
    ["HTTP p99", fmt(stat(summary, "http_req_duration", "p(99)"), " ms")],
  ];
}

const percentOf = (v: number | null) => (v === null ? null : v * 100);

function projectionLines(r: Core): string[] {
  const n = r.projection.nodes;
  return [
    r.projection.explanation + ".",
    `Shards one node sustained within the thresholds: **${r.projection.sustainedShards.toFixed(2)}** of ${r.facts.shardCount}.`,
    `Nodes for N = ${r.projection.target.toExponential(0)} users: **${n.average ?? "–"}** at the average-day rate, **${n.peak ?? "–"}** at the NYE 2016 peak.`,
  ];
}

function markdown(r: Core, summary: K6Summary): string {
  const f = r.facts;
  return [
    `# ${f.scenario}: ${r.passed ? "PASSED" : "FAILED"}`,
    "",
    `${f.shards} of ${f.shardCount} shards of ${f.population.toLocaleString("en-US")} users, ${f.level === "peak" ? "NYE 2016 peak" : "average day"} rate ` +
      `(${rateLine(r, summary)}), ${f.durationSeconds} s against ${f.target}` +
      `${(f.generators ?? 1) > 1 ? `, ${f.generators} generators merged` : ""}. Started ${f.startedAt.toISOString()}; k6 exit code ${f.k6ExitCode ?? "n/a"}.`,
    "",
    "## Generator",
    "",
    ...generatorLines(r),
    "",
    "## Thresholds",
    "",
    "| metric | threshold | observed | result |",
    "| --- | --- | --- | --- |",
    ...r.thresholds.map((t) => `| \`${t.metric}\` | \`${t.expression}\` | ${fmt(t.observed)}${t.note ? ` (${t.note})` : ""} | ${t.ok ? "ok" : "**FAILED**"} |`),
    "",
    "## Key numbers",
    "",
    "| | |",
    "| --- | --- |",
    ...keyNumbers(summary).map(([k, v]) => `| ${k} | ${v} |`),
    "",
    ...(r.serverFigures.length === 0
      ? []
      : ["## Server figures (/metrics, after − before)", "", "| | |", "| --- | --- |", ...r.serverFigures.map(([k, v]) => `| ${k} | ${v} |`), ""]),
    "## Projection",
    "",
    ...projectionLines(r),
    "",
    "Charts: report.html. Raw data: summary.json (what k6 gave handleSummary), metrics.json.gz (k6 JSON output).",
    "",
  ].join("\n");
}

function html(r: Core, summary: K6Summary, series: TimeSeries): string {
  const inlineText = (s: string) => s.replace(/[<>&]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;" })[c]!).replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>").replace(/`(.+?)`/g, "<code>$1</code>");
  const seconds = series.seconds;
  const throughput = lineChart("Throughput", "messages per second", [
    { name: "sent", colour: "#1f77b4", points: seconds.map((b) => [b.second, b.sent]) },
    { name: "received", colour: "#2ca02c", points: seconds.map((b) => [b.second, b.received]) },
    { name: "errors", colour: "#d62728", points: seconds.map((b) => [b.second, b.errors]) },
  ]);
  const latency = lineChart("Delivery latency", "milliseconds", [
    { name: "p50", colour: "#1f77b4", points: seconds.map((b) => [b.second, percentile(b.latencies, 50)]) },
    { name: "p99", colour: "#ff7f0e", points: seconds.map((b) => [b.second, percentile(b.latencies, 99)]) },
  ]);
  const rows = r.thresholds
    .map((t) => `<tr class="${t.ok ? "ok" : "bad"}"><td><code>${t.metric}</code></td><td><code>${t.expression.replace(/</g, "&lt;")}</code></td><td>${fmt(t.observed)}</td><td>${t.ok ? "ok" : "FAILED"}</td></tr>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${r.facts.scenario} load report</title>
<style>body{font:14px/1.4 system-ui,sans-serif;max-width:800px;margin:2em auto;padding:0 1em}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px}.bad{background:#fdd}.ok{background:#efe}figure{margin:1.5em 0}figcaption{font-weight:600}</style>
</head><body>
<h1>${r.facts.scenario}: ${r.passed ? "passed" : "FAILED"}</h1>
<p>${r.facts.shards} of ${r.facts.shardCount} shards, ${r.facts.level === "peak" ? "NYE 2016 peak" : "average day"} rate: ${inlineText(rateLine(r, summary))}; ${r.facts.durationSeconds} s.</p>
<h2>Generator</h2>
${generatorLines(r).map((l) => `<p>${inlineText(l)}</p>`).join("\n")}
<h2>Projection</h2>
${projectionLines(r).map((l) => `<p>${inlineText(l)}</p>`).join("\n")}
<h2>Over time</h2>
${throughput}
${latency}
<h2>Thresholds</h2>
<table><tr><th>metric</th><th>threshold</th><th>observed</th><th>result</th></tr>
${rows}
</table>
<h2>Key numbers</h2>
<table>${keyNumbers(summary).map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join("")}</table>
${r.serverFigures.length === 0 ? "" : `<h2>Server figures (/metrics, after − before)</h2>\n<table>${r.serverFigures.map(([k, v]) => `<tr><td>${k}</td><td>${inlineText(v)}</td></tr>`).join("")}</table>`}
</body></html>
`;
}

export async function writeReport(dir: string, report: Report): Promise<void> {
  await writeFile(path.join(dir, "report.md"), report.markdown);
  await writeFile(path.join(dir, "report.html"), report.html);
}
