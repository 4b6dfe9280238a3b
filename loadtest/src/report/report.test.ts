import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { plan } from "../model/workload";
import { readTimeSeries, summarySchema, thresholdsOf } from "./k6-results";
import { buildReport, writeReport } from "./report";

// Samples written from k6's documented formats: summary.json as `--summary-export`
// writes it, metrics.ndjson as `--out json` does (20 s of a small steady run).
const samples = path.join(path.dirname(fileURLToPath(import.meta.url)), "samples");

async function sample() {
  const summary = summarySchema.parse(JSON.parse(await readFile(path.join(samples, "summary.json"), "utf8")));
  const series = await readTimeSeries(path.join(samples, "metrics.ndjson"));
  return { summary, series };
}

const facts = (k6ExitCode: number) => ({
  scenario: "steady",
  shards: 1,
  shardCount: 10_000,
  population: 1e9,
  level: "average" as const,
  plannedMessagesPerSecond: plan({ shards: 1, shardCount: 10_000 }).average.messagesPerSecond,
  durationSeconds: 50,
  target: "http://127.0.0.1:4100",
  k6ExitCode,
  startedAt: new Date("2026-11-21T20:00:00Z"),
});

describe("report from recorded k6 output", () => {
  it("reads thresholds from the summary export (true there means failed)", async () => {
    const { summary } = await sample();
    const thresholds = thresholdsOf(summary);
    expect(thresholds).toContainEqual({ metric: "delivery_latency{scenario:steady}", expression: "p(99)<500", ok: true, observed: 96 });
    expect(thresholds).toContainEqual({ metric: "delivered{scenario:steady}", expression: "rate>0.99", ok: true, observed: 0.9986111111111111 });
    const failed = summarySchema.parse({ metrics: { x: { "p(99)": 700, thresholds: { "p(99)<500": true } } } });
    expect(thresholdsOf(failed)).toEqual([{ metric: "x", expression: "p(99)<500", ok: false, observed: 700 }]);
  });

  it("buckets the JSON output per second: throughput, latency and errors over time", async () => {
    const { series } = await sample();
    expect(series.startedAt?.toISOString()).toBe("2025-11-21T20:00:00.000Z");
    expect(series.seconds).toHaveLength(20);
    expect(series.seconds.every((b) => b.sent === 10)).toBe(true);
    expect(series.seconds[12]!.latencies.some((v) => v > 150)).toBe(true);
    expect(series.seconds[0]!.latencies).toHaveLength(5);
  });

  it("writes a Markdown summary and an HTML page with charts and the projection", async () => {
    const { summary, series } = await sample();
    const report = buildReport(facts(0), summary, series);
    expect(report.passed).toBe(true);
    // 2,400 messages over 50 s = 48/s, about the 48.6/s a shard of 10,000 gets on an average day.
    expect(report.achievedMessagesPerSecond).toBeCloseTo(48, 6);
    expect(report.projection.sustainedShards).toBe(1);
    expect(report.projection.nodes.average).toBe(10_000);
    expect(report.markdown).toMatch(/^# steady: PASSED/);
    expect(report.markdown).toMatch(/\| `delivery_latency\{scenario:steady\}` \| `p\(99\)<500` \| 96\.0 \| ok \|/);
    expect(report.markdown).toMatch(/Nodes for N = 1e\+9 users: \*\*10000\*\* at the average-day rate, \*\*15000\*\* at the NYE 2016 peak/);
    expect(report.html).toContain("<svg");
    expect(report.html).toMatch(/Throughput[\s\S]*Delivery latency/);
    const dir = await mkdtemp(path.join(tmpdir(), "handshake-report-"));
    await writeReport(dir, report);
    expect(await readFile(path.join(dir, "report.md"), "utf8")).toBe(report.markdown);
  });

  it("a run whose k6 exited with failed thresholds projects nothing", async () => {
    const { summary, series } = await sample();
    const report = buildReport(facts(99), summary, series);
    expect(report.passed).toBe(false);
    expect(report.projection.nodes).toEqual({ average: null, peak: null });
    expect(report.markdown).toMatch(/^# steady: FAILED/);
  });
});
