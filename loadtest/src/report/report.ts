/**
 * The report of one run: loadtest/reports/<time>-<scenario>/ with k6's summary
 * (summary.json), the time series (metrics.json.gz), report.md and report.html.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { lineChart } from "./charts";
import { percentile, stat, thresholdsOf, type K6Summary, type ThresholdResult, type TimeSeries } from "./k6-results";
import { project, type Level, type Projection } from "./projection";

export interface RunFacts {
  scenario: string;
  shards: number;
  shardCount: number;
  population: number;
  level: Level;
  /** Planned rate of the run's unit (`rate`): messages/s, or lists/s for custom-audience. */
  plannedMessagesPerSecond: number;
  /** The counter that measures the achieved rate, and its unit (default messages_sent, msg/s). */
  rate?: { metric: string; unit: string };
  durationSeconds: number;
  target: string;
  k6ExitCode: number | null;
  startedAt: Date;
}

export interface Report {
  facts: RunFacts;
  thresholds: ThresholdResult[];
  passed: boolean;
  achievedMessagesPerSecond: number;
  projection: Projection;
  markdown: string;
  html: string;
}

const fmt = (v: number | null, unit = "") =>
  v === null ? "–" : `${v >= 100 ? Math.round(v).toLocaleString("en-US") : v < 1 && v > 0 ? v.toPrecision(4) : v.toFixed(1)}${unit}`;

export function buildReport(facts: RunFacts, summary: K6Summary, series: TimeSeries): Report {
  const thresholds = thresholdsOf(summary);
  // k6 exits 99 when a threshold failed; any other non-zero exit is a failed run too.
  const passed = thresholds.every((t) => t.ok) && (facts.k6ExitCode === null || facts.k6ExitCode === 0);
  const sent = stat(summary, facts.rate?.metric ?? "messages_sent", "count");
  const achievedMessagesPerSecond = sent !== null && facts.durationSeconds > 0 ? sent / facts.durationSeconds : 0;
  const projection = project({
    shards: facts.shards,
    shardCount: facts.shardCount,
    population: facts.population,
    level: facts.level,
    plannedMessagesPerSecond: facts.plannedMessagesPerSecond,
    achievedMessagesPerSecond,
    thresholdsPassed: passed,
  });
  const report = { facts, thresholds, passed, achievedMessagesPerSecond, projection };
  return { ...report, markdown: markdown(report, summary), html: html(report, summary, series) };
}

type Core = Omit<Report, "markdown" | "html">;

const unitOf = (facts: RunFacts) => facts.rate?.unit ?? "msg/s";

/** Rows for metrics only some scenarios record (shown when the run has them). */
function scenarioNumbers(summary: K6Summary): Array<[string, string]> {
  const trio = (metric: string) => ["med", "p(95)", "p(99)"].map((k) => fmt(stat(summary, metric, k), " ms")).join(" / ");
  const rows: Array<[string, string | null]> = [
    ["share pipeline lag p50 / p95 / p99", stat(summary, "share_pipeline_lag", "med") === null ? null : trio("share_pipeline_lag")],
    ["share pipeline: followed changes that arrived", stat(summary, "share_pipeline_arrived", "value") === null ? null : fmt(percentOf(stat(summary, "share_pipeline_arrived", "value")), " %")],
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
    ["delivered ratio", fmt(percentOf(stat(summary, "delivered", "value")), " %")],
    ["error rate", fmt(percentOf(stat(summary, "errors", "value")), " %")],
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
      `(${r.facts.plannedMessagesPerSecond.toFixed(r.facts.plannedMessagesPerSecond < 1 ? 3 : 1)} ${unitOf(f)} planned, ${r.achievedMessagesPerSecond.toFixed(r.facts.plannedMessagesPerSecond < 1 ? 3 : 1)} achieved), ${f.durationSeconds} s against ${f.target}. ` +
      `Started ${f.startedAt.toISOString()}; k6 exit code ${f.k6ExitCode ?? "n/a"}.`,
    "",
    "## Thresholds",
    "",
    "| metric | threshold | observed | result |",
    "| --- | --- | --- | --- |",
    ...r.thresholds.map((t) => `| \`${t.metric}\` | \`${t.expression}\` | ${fmt(t.observed)} | ${t.ok ? "ok" : "**FAILED**"} |`),
    "",
    "## Key numbers",
    "",
    "| | |",
    "| --- | --- |",
    ...keyNumbers(summary).map(([k, v]) => `| ${k} | ${v} |`),
    "",
    "## Projection",
    "",
    ...projectionLines(r),
    "",
    "Charts: report.html. Raw data: summary.json (k6 summary export), metrics.json.gz (k6 JSON output).",
    "",
  ].join("\n");
}

function html(r: Core, summary: K6Summary, series: TimeSeries): string {
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
  const inline = (s: string) => s.replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>").replace(/[<>&](?![a-z/]+>)/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;" })[c]!);
  const rows = r.thresholds
    .map((t) => `<tr class="${t.ok ? "ok" : "bad"}"><td><code>${t.metric}</code></td><td><code>${t.expression.replace(/</g, "&lt;")}</code></td><td>${fmt(t.observed)}</td><td>${t.ok ? "ok" : "FAILED"}</td></tr>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${r.facts.scenario} load report</title>
<style>body{font:14px/1.4 system-ui,sans-serif;max-width:800px;margin:2em auto;padding:0 1em}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px}.bad{background:#fdd}.ok{background:#efe}figure{margin:1.5em 0}figcaption{font-weight:600}</style>
</head><body>
<h1>${r.facts.scenario}: ${r.passed ? "passed" : "FAILED"}</h1>
<p>${r.facts.shards} of ${r.facts.shardCount} shards, ${r.facts.level === "peak" ? "NYE 2016 peak" : "average day"} rate: ${r.facts.plannedMessagesPerSecond.toFixed(1)} ${unitOf(r.facts)} planned, ${r.achievedMessagesPerSecond.toFixed(1)} achieved; ${r.facts.durationSeconds} s.</p>
<h2>Projection</h2>
${projectionLines(r).map((l) => `<p>${inline(l)}</p>`).join("\n")}
<h2>Over time</h2>
${throughput}
${latency}
<h2>Thresholds</h2>
<table><tr><th>metric</th><th>threshold</th><th>observed</th><th>result</th></tr>
${rows}
</table>
<h2>Key numbers</h2>
<table>${keyNumbers(summary).map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join("")}</table>
</body></html>
`;
}

export async function writeReport(dir: string, report: Report): Promise<void> {
  await writeFile(path.join(dir, "report.md"), report.markdown);
  await writeFile(path.join(dir, "report.html"), report.html);
}
