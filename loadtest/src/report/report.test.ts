import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { stormTimes } from "../model/timeline";
import { plan, type ScenarioName } from "../model/workload";
import { readTimeSeries, summarySchema, thresholdsOf, type K6Summary } from "./k6-results";
import { rateSpec } from "./rate";
import { buildReport, writeReport, type RunFacts } from "./report";

// Samples in k6's formats: summary.json as k6 hands it to handleSummary (grafana/k6
// internal/js/summary.go), metrics.ndjson as `--out json` writes it (20 s of a small steady run).
const samples = path.join(path.dirname(fileURLToPath(import.meta.url)), "samples");

async function sample() {
  const summary = summarySchema.parse(JSON.parse(await readFile(path.join(samples, "summary.json"), "utf8")));
  const series = await readTimeSeries(path.join(samples, "metrics.ndjson"));
  return { summary, series };
}

const noSeries = { startedAt: null, seconds: [] };
const one = plan({ shards: 1, shardCount: 10_000 });

function facts(scenario: ScenarioName, k6ExitCode: number, durationSeconds = 50, outageSeconds = 10): RunFacts {
  return {
    scenario,
    shards: 1,
    shardCount: 10_000,
    population: 1e9,
    level: "average",
    rate: rateSpec(scenario, { load: one.average, durationSeconds, outageSeconds, listsPerMinute: 1 }),
    durationSeconds,
    target: "http://127.0.0.1:4100",
    k6ExitCode,
    startedAt: new Date("2026-11-21T20:00:00Z"),
  };
}

/** A summary as handleSummary gets it, from `name: [type, values, thresholds?]`. */
function summaryOf(metrics: Record<string, [K6Summary["metrics"][string]["type"], Record<string, number>, Record<string, boolean>?]>): K6Summary {
  return summarySchema.parse({
    metrics: Object.fromEntries(
      Object.entries(metrics).map(([name, [type, values, thresholds]]) => [
        name,
        { type, contains: type === "trend" ? "time" : "default", values, ...(thresholds ? { thresholds: Object.fromEntries(Object.entries(thresholds).map(([e, ok]) => [e, { ok }])) } : {}) },
      ]),
    ),
  });
}

describe("report from k6 output", () => {
  it("reads thresholds from the handleSummary data ({ ok } per expression)", async () => {
    const { summary } = await sample();
    const thresholds = thresholdsOf(summary);
    expect(thresholds).toContainEqual({ metric: "delivery_latency{scenario:steady_holders}", expression: "p(99)<500", ok: true, observed: 96 });
    expect(thresholds).toContainEqual({ metric: "delivery_latency{scenario:steady_holders}", expression: "p(50)<100", ok: true, observed: 9 });
    const failed = summaryOf({ x: ["trend", { "p(99)": 700 }, { "p(99)<500": false }] });
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

  it("writes a Markdown summary and an HTML page with the generator's health and the projection", async () => {
    const { summary, series } = await sample();
    const report = buildReport(facts("steady", 0), summary, series);
    expect(report.passed).toBe(true);
    // 2,400 messages over 50 s of sending = 48/s, about the 48.6/s a shard of 10,000 gets on an average day.
    expect(report.achievedMessagesPerSecond).toBeCloseTo(48, 6);
    expect(report.projection.sustainedShards).toBe(1);
    expect(report.projection.nodes.average).toBe(10_000);
    expect(report.markdown).toMatch(/^# steady: PASSED/);
    expect(report.markdown).toMatch(/\| `delivery_latency\{scenario:steady_holders\}` \| `p\(99\)<500` \| 96\.0 \| ok \|/);
    // The delivered share is derived from the two counters (719 of 720 receipts came back).
    expect(report.markdown).toMatch(/\| `delivered` \| `rate>0\.99` \| 0\.9986 \| ok \|/);
    expect(report.markdown).toMatch(/The generator kept up: dropped iterations 0, VU timer lag p99 9\.0 ms/);
    expect(report.markdown).toMatch(/Nodes for N = 1e\+9 users: \*\*10000\*\* at the average-day rate, \*\*15000\*\* at the NYE 2016 peak/);
    expect(report.html).toContain("<svg");
    expect(report.html).toMatch(/Throughput[\s\S]*Delivery latency/);
    // The projection's bold figures are markup, not escaped text.
    expect(report.html).toMatch(/<strong>10000<\/strong>/);
    expect(report.html).not.toContain("&lt;strong");
    expect(report.html).not.toContain("<strong&gt;");
    const dir = await mkdtemp(path.join(tmpdir(), "handshake-report-"));
    await writeReport(dir, report);
    expect(await readFile(path.join(dir, "report.md"), "utf8")).toBe(report.markdown);
  });

  it("a run whose k6 exited with failed thresholds projects nothing", async () => {
    const { summary, series } = await sample();
    const report = buildReport(facts("steady", 99), summary, series);
    expect(report.passed).toBe(false);
    expect(report.projection.nodes).toEqual({ average: null, peak: null });
    expect(report.markdown).toMatch(/^# steady: FAILED/);
  });
});

describe("achieved rate over the window each scenario sends (point 5, 6)", () => {
  it("reconnect-storm sends for 2D/3 + OUTAGE seconds and is measured over that, not D", () => {
    const d = 60;
    const window = stormTimes(d, 10).sendSeconds;
    expect(window).toBe(50);
    // The sender kept the planned rate for the whole window.
    const sent = Math.round(one.average.messagesPerSecond * window);
    const summary = summaryOf({ messages_sent: ["counter", { count: sent, rate: sent / 80 }], "messages_sent{scenario:reconnect_storm}": ["counter", { count: sent }, { "count>0": true }] });
    const report = buildReport(facts("reconnect-storm", 0, d), summary, noSeries);
    expect(report.achievedMessagesPerSecond! / one.average.messagesPerSecond).toBeCloseTo(1, 2);
    expect(report.projection.sustainedShards).toBe(1);
    expect(report.markdown).toContain("over 50 s of sending");
  });

  it("business-broadcast measures business sends against the business rate", () => {
    const planned = one.average.messagesPerSecond * 0.02;
    const sends = Math.round(planned * 50);
    const summary = summaryOf({ business_sends: ["counter", { count: sends }], "business_sends{scenario:business_broadcast}": ["counter", { count: sends }, { "count>0": true }] });
    const report = buildReport(facts("business-broadcast", 0), summary, noSeries);
    expect(report.achievedMessagesPerSecond).toBeCloseTo(sends / 50, 9);
    expect(report.projection.sustainedShards).toBe(1);
    expect(report.markdown).toMatch(/0\.972 business msg\/s planned, 0\.9\d\d achieved/);
  });

  it("rollout plans no message rate: the report says so instead of 0.0% of a plan", () => {
    const summary = summaryOf({ consent_calls: ["counter", { count: 812 }], "holdouts_locked_out{scenario:rollout}": ["rate", { rate: 1, passes: 40, fails: 0 }, { "rate==1": true }] });
    const report = buildReport(facts("rollout", 0), summary, noSeries);
    expect(report.achievedMessagesPerSecond).toBeNull();
    expect(report.markdown).toContain("no planned rate (users act on their fixture's days); 812 consent calls");
    expect(report.markdown).not.toMatch(/0\.0% of the planned rate|0\.00 shards/);
    expect(report.projection.sustainedShards).toBe(1);
  });
});

describe("nothing passes with nothing measured (point 9)", () => {
  it("an empty Trend passes its p(99) in k6 (reads 0), so its count threshold fails the run", () => {
    const summary = summaryOf({
      "delivery_latency{scenario:steady_holders}": ["trend", { med: 0, "p(99)": 0 }, { "p(50)<100": true, "p(99)<500": true }],
      "messages_received{scenario:steady_holders}": ["counter", { count: 0 }, { "count>0": false }],
      receipts_expected: ["counter", { count: 0 }],
    });
    const report = buildReport(facts("steady", 99), summary, noSeries);
    expect(report.passed).toBe(false);
    expect(report.thresholds.filter((t) => !t.ok).map((t) => `${t.metric} ${t.expression}`)).toEqual([
      "messages_received{scenario:steady_holders} count>0",
      "delivered rate>0.99",
    ]);
  });

  it("receipts that did not come back fail the derived delivered share even when k6 exited 0", () => {
    const summary = summaryOf({ receipts_expected: ["counter", { count: 1000 }], receipts: ["counter", { count: 950 }] });
    const report = buildReport(facts("steady", 0), summary, noSeries);
    expect(report.passed).toBe(false);
    expect(report.thresholds).toContainEqual({ metric: "delivered", expression: "rate>0.99", ok: false, observed: 0.95 });
  });
});

describe("a saturated generator (point 7)", () => {
  it("dropped iterations, late timers or a busy CPU mean the run says nothing about the node", () => {
    const sent = Math.round(one.average.messagesPerSecond * 50);
    const summary = summaryOf({
      messages_sent: ["counter", { count: sent }],
      dropped_iterations: ["counter", { count: 37 }],
      generator_loop_lag: ["trend", { "p(99)": 340 }],
    });
    const report = buildReport({ ...facts("steady", 0), generatorCpu: { peakCores: 1.9, cores: 2 } }, summary, noSeries);
    expect(report.generator.saturated).toBe(true);
    expect(report.generator.reasons).toHaveLength(3);
    expect(report.projection.sustainedShards).toBe(0);
    expect(report.projection.nodes).toEqual({ average: null, peak: null });
    expect(report.markdown).toMatch(/\*\*The generator was saturated\*\* \(k6 dropped 37 iterations/);
  });
});

describe("breakpoint: the node's capacity from the ramp (point 12)", () => {
  it("is the highest 5 s mean send rate whose delivery p99 stayed under 500 ms, above the plan if the node carried more", () => {
    const planned = one.average.messagesPerSecond; // 48.6 msg/s for one shard
    // The ramp: 10 s at 40/s (fast), 10 s at 100/s (fast), then 10 s at 160/s where latency explodes.
    const seconds = Array.from({ length: 30 }, (_, second) => {
      const sent = second < 10 ? 40 : second < 20 ? 100 : 160;
      const latency = second < 20 ? 30 : 2000;
      return { second, sent, received: sent, latencies: Array.from({ length: 20 }, () => latency), errors: 0 };
    });
    const summary = summaryOf({
      messages_sent: ["counter", { count: 3000 }],
      "delivery_latency{scenario:breakpoint_holders}": ["trend", { "p(99)": 2000 }, { "p(99)<500": false }],
      "dropped_iterations{scenario:breakpoint}": ["counter", { count: 40 }, { "count<10": false }],
      dropped_iterations: ["counter", { count: 40 }],
      "connections_ok{scenario:breakpoint_holders}": ["rate", { rate: 1, passes: 4, fails: 0 }, { "rate>0.99": true }],
    });
    // k6 exits 99 after the abortOnFail threshold stopped it: that is how a breakpoint run ends.
    const report = buildReport(facts("breakpoint", 99), summary, { startedAt: new Date(0), seconds });
    expect(report.achievedMessagesPerSecond).toBe(100);
    expect(report.generator.saturated).toBe(false);
    expect(report.projection.sustainedShards).toBeCloseTo(100 / planned, 9);
    expect(report.markdown).toContain("capacity 100.0 msg/s: the highest 5 s mean send rate with delivery p99 < 500 ms; the plan for these shards is 48.6");
  });

  it("a breakpoint run that broke something else (sockets) projects nothing", () => {
    const seconds = Array.from({ length: 10 }, (_, second) => ({ second, sent: 50, received: 50, latencies: [20], errors: 0 }));
    const summary = summaryOf({ "connections_ok{scenario:breakpoint_holders}": ["rate", { rate: 0.5, passes: 2, fails: 2 }, { "rate>0.99": false }] });
    const report = buildReport(facts("breakpoint", 99), summary, { startedAt: new Date(0), seconds });
    expect(report.projection.sustainedShards).toBe(0);
  });
});
