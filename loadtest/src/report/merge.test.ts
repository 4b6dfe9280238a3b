import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { summarySchema, thresholdsOf } from "./k6-results";
import { mergeSummaries } from "./merge";
import { holds, parseThreshold, percentileOf } from "./thresholds";

const summary = (metrics: Record<string, unknown>, durationMs = 60_000) => summarySchema.parse({ metrics, state: { testRunDurationMs: durationMs } });

/** k6 `--out json` lines for delivery_latency samples of the holders' scenario. */
async function jsonOutput(values: number[]): Promise<string> {
  const file = path.join(await mkdtemp(path.join(tmpdir(), "handshake-merge-")), "metrics.json");
  const lines = values.map((value, i) =>
    JSON.stringify({ type: "Point", data: { time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), value, tags: { scenario: "steady_holders" } }, metric: "delivery_latency" }),
  );
  await writeFile(file, `${lines.join("\n")}\n`);
  return file;
}

const latency = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const p99 = percentileOf(sorted, 0.99);
  return { type: "trend", contains: "time", values: { med: percentileOf(sorted, 0.5), "p(99)": p99, max: sorted.at(-1) }, thresholds: { "p(99)<500": { ok: p99 < 500 } } };
};

describe("merging N generators' summaries (thresholds on the merged data)", () => {
  it("counters and rates add up; a count threshold each part fails can hold on the whole, and a rate one each passes can fail", async () => {
    const part = (count: number, passes: number, fails: number) =>
      summary({
        "messages_sent{scenario:steady}": { type: "counter", contains: "default", values: { count, rate: count / 60 }, thresholds: { "count>150": { ok: count > 150 } } },
        "errors{scenario:steady}": { type: "rate", contains: "default", values: { rate: fails / (passes + fails), passes: fails, fails: passes }, thresholds: { "rate<0.01": { ok: fails / (passes + fails) < 0.01 } } },
      });
    // errors is a Rate of "failed" samples: passes are the failures (k6's Rate counts trues).
    const a = part(100, 995, 5);
    const b = part(100, 980, 20);
    const merged = await mergeSummaries([{ summary: a }, { summary: b }]);
    expect(merged.metrics["messages_sent{scenario:steady}"]!.values).toEqual({ count: 200, rate: 200 / 60 });
    expect(thresholdsOf(merged)).toEqual(
      expect.arrayContaining([
        { metric: "messages_sent{scenario:steady}", expression: "count>150", ok: true, observed: 200 },
        { metric: "errors{scenario:steady}", expression: "rate<0.01", ok: false, observed: 25 / 2000 },
      ]),
    );
    expect(thresholdsOf(a).every((t) => t.expression === "count>150" ? !t.ok : t.ok)).toBe(true);
  });

  it("trend percentiles come from every run's raw samples: one generator's failing p(99) need not fail the whole", async () => {
    const busy = Array.from({ length: 100 }, (_, i) => 10 + i); // a generator with 100 fast deliveries
    const small = [...Array.from({ length: 19 }, (_, i) => 20 + i), 900]; // one with 20, one of them slow
    expect(latency(busy).thresholds["p(99)<500"].ok).toBe(true);
    expect(latency(small).thresholds["p(99)<500"].ok).toBe(false);
    const merged = await mergeSummaries([
      { summary: summary({ "delivery_latency{scenario:steady_holders}": latency(busy) }), metricsFile: await jsonOutput(busy) },
      { summary: summary({ "delivery_latency{scenario:steady_holders}": latency(small) }), metricsFile: await jsonOutput(small) },
    ]);
    const all = [...busy, ...small].sort((a, b) => a - b);
    const values = merged.metrics["delivery_latency{scenario:steady_holders}"]!.values;
    expect(values["p(99)"]).toBe(percentileOf(all, 0.99));
    expect(values["p(99)"]).toBeLessThan(500);
    expect(merged.metrics["delivery_latency{scenario:steady_holders}"]!.thresholds).toEqual({ "p(99)<500": { ok: true } });
  });

  it("without raw samples a trend is only bounded: the largest part's percentile, and the verdict says so", async () => {
    const fast = summary({ "delivery_latency{scenario:steady_holders}": { type: "trend", contains: "time", values: { "p(99)": 120, min: 2, max: 300 }, thresholds: { "p(99)<500": { ok: true } } } });
    const slow = summary({ "delivery_latency{scenario:steady_holders}": { type: "trend", contains: "time", values: { "p(99)": 700, min: 5, max: 900 }, thresholds: { "p(99)<500": { ok: false } } } });
    const passing = await mergeSummaries([{ summary: fast }, { summary: fast }]);
    expect(thresholdsOf(passing)[0]).toMatchObject({ ok: true, observed: 120, note: "upper bound from 2 summaries, no raw samples" });
    const failing = await mergeSummaries([{ summary: fast }, { summary: slow }]);
    expect(failing.metrics["delivery_latency{scenario:steady_holders}"]!.values).toEqual({ "p(99)": 700, min: 2, max: 900 });
    expect(thresholdsOf(failing)[0]).toMatchObject({ ok: false, observed: 700 });
  });
});

describe("k6 threshold semantics (grafana/k6 metrics/thresholds.go, sink.go, metric_type.go)", () => {
  it("an empty Rate reads 0 and an empty Trend's percentiles read 0 at the end of a test", async () => {
    const { valuesOf } = await import("./thresholds");
    expect(holds(parseThreshold("rate>0.99"), valuesOf("rate", [], 1000, []))).toBe(false);
    expect(holds(parseThreshold("rate<0.01"), valuesOf("rate", [], 1000, []))).toBe(true);
    expect(holds(parseThreshold("p(99)<500"), valuesOf("trend", [], 1000, ["p(99)"]))).toBe(true);
    expect(holds(parseThreshold("count>0"), valuesOf("counter", [], 1000, []))).toBe(false);
  });

  it("aggregations a metric type does not support are refused, as k6 refuses to start", async () => {
    const { checkAggregation } = await import("./thresholds");
    expect(() => checkAggregation("reconnect_latency", "trend", parseThreshold("count>0"))).toThrow(/unsupported aggregation method count on metric of type trend/);
    expect(() => checkAggregation("share_outbox_pending", "gauge", parseThreshold("max<10"))).toThrow(/unsupported/);
    expect(() => checkAggregation("receipts", "counter", parseThreshold("count>0"))).not.toThrow();
    expect(() => parseThreshold("p99 < 500")).toThrow(/invalid threshold expression/);
  });
});
