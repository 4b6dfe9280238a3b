/**
 * Reading what k6 wrote: the end-of-test summary the scripts' handleSummary writes
 * (the data k6 passes to it: grafana/k6 internal/js/summary.go summarizeMetricsToObject,
 * per metric `type`, `contains`, `values` and `thresholds: { expr: { ok } }`) and the
 * time series (`--out json=…`, one JSON object a line: `Metric` declarations and
 * `Point` samples; gzipped when the file name ends in .gz).
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { z } from "zod";

const metricSchema = z.object({
  type: z.enum(["counter", "gauge", "rate", "trend"]),
  contains: z.string(),
  values: z.record(z.string(), z.number()),
  // `note` is ours: the merge of N runs says when it could only bound a value.
  thresholds: z.record(z.string(), z.object({ ok: z.boolean(), note: z.string().optional() })).optional(),
});
export const summarySchema = z.looseObject({
  metrics: z.record(z.string(), metricSchema),
  state: z.looseObject({ testRunDurationMs: z.number().optional() }).optional(),
});
export type K6Summary = z.infer<typeof summarySchema>;
export type K6Metric = z.infer<typeof metricSchema>;

export interface ThresholdResult {
  metric: string;
  expression: string;
  ok: boolean;
  /** The value the expression is about (e.g. p(99) for "p(99)<500"), when the summary has it. */
  observed: number | null;
  /** Set when the merge could only bound the value (a trend without raw samples): see merge.ts. */
  note?: string;
}

export function thresholdsOf(summary: K6Summary): ThresholdResult[] {
  const out: ThresholdResult[] = [];
  for (const [metric, { values, thresholds }] of Object.entries(summary.metrics)) {
    for (const [expression, result] of Object.entries(thresholds ?? {})) {
      const stat = expression.match(/^\s*([a-z]+(?:\([0-9.]+\))?)\s*[<>=!]/)?.[1] ?? "";
      const key = stat === "p(50)" && values["p(50)"] === undefined ? "med" : stat;
      out.push({ metric, expression, ok: result.ok, observed: typeof values[key] === "number" ? values[key] : null, ...(result.note ? { note: result.note } : {}) });
    }
  }
  return out;
}

/** A metric's statistic; when only tagged submetrics exist (`name{scenario:x}`), the first of them. */
export function stat(summary: K6Summary, metric: string, key: string): number | null {
  const found = summary.metrics[metric] ?? Object.entries(summary.metrics).find(([name]) => name.startsWith(`${metric}{`))?.[1];
  const value = found?.values[key];
  return typeof value === "number" ? value : null;
}

export interface SecondBucket {
  second: number;
  sent: number;
  received: number;
  latencies: number[];
  errors: number;
}

export interface TimeSeries {
  startedAt: Date | null;
  seconds: SecondBucket[];
}

const pointSchema = z.object({
  type: z.literal("Point"),
  metric: z.string(),
  data: z.object({ time: z.string(), value: z.number(), tags: z.record(z.string(), z.string()).nullable().optional() }),
});

export interface Point {
  metric: string;
  /** Epoch ms. */
  time: number;
  value: number;
  tags: Record<string, string>;
}

/** Streams the `Point` samples of k6's JSON output (gzipped when the name ends in .gz). */
export async function* readPoints(file: string): AsyncGenerator<Point> {
  const stream = file.endsWith(".gz") ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.includes('"Point"')) continue;
    const parsed = pointSchema.safeParse(JSON.parse(line));
    if (!parsed.success) continue;
    const { metric, data } = parsed.data;
    yield { metric, time: Date.parse(data.time), value: data.value, tags: data.tags ?? {} };
  }
}

/** Per-second throughput, latencies and errors from k6's JSON output. */
export async function readTimeSeries(file: string): Promise<TimeSeries> {
  const buckets = new Map<number, SecondBucket>();
  let start: number | null = null;
  const bucket = (at: number) => {
    start ??= at;
    const second = Math.max(0, Math.floor((at - start) / 1000));
    let b = buckets.get(second);
    if (!b) buckets.set(second, (b = { second, sent: 0, received: 0, latencies: [], errors: 0 }));
    return b;
  };
  for await (const { metric, time: at, value } of readPoints(file)) {
    const data = { value };
    if (metric === "messages_sent") bucket(at).sent += data.value;
    else if (metric === "messages_received") bucket(at).received += data.value;
    else if (metric === "delivery_latency") bucket(at).latencies.push(data.value);
    else if (metric === "errors") bucket(at).errors += data.value;
  }
  const seconds = [...buckets.values()].sort((a, b) => a.second - b.second);
  return { startedAt: start === null ? null : new Date(start), seconds };
}

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
