/**
 * Reading what k6 wrote: the end-of-test summary (`--summary-export`, documented
 * JSON) and the time series (`--out json=…`, one JSON object a line: `Metric`
 * declarations and `Point` samples; gzipped when the file name ends in .gz).
 *
 * In the summary export, a threshold's boolean is true when it FAILED (a known
 * quirk of that format, grafana/k6#1498).
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { z } from "zod";

const metricSchema = z.record(z.string(), z.union([z.number(), z.record(z.string(), z.boolean())]));
export const summarySchema = z.object({ metrics: z.record(z.string(), metricSchema) });
export type K6Summary = z.infer<typeof summarySchema>;

export interface ThresholdResult {
  metric: string;
  expression: string;
  ok: boolean;
  /** The value the expression is about (e.g. p(99) for "p(99)<500"), when the summary has it. */
  observed: number | null;
}

export function thresholdsOf(summary: K6Summary): ThresholdResult[] {
  const out: ThresholdResult[] = [];
  for (const [metric, values] of Object.entries(summary.metrics)) {
    const thresholds = values.thresholds;
    if (!thresholds || typeof thresholds === "number") continue;
    for (const [expression, failed] of Object.entries(thresholds)) {
      const stat = expression.match(/^([a-z]+(?:\([0-9.]+\))?)\s*[<>=!]/)?.[1] ?? "";
      const key = stat === "rate" ? "value" : stat === "p(50)" ? "med" : stat;
      const observed = typeof values[key] === "number" ? (values[key] as number) : null;
      out.push({ metric, expression, ok: !failed, observed });
    }
  }
  return out;
}

/** A metric's statistic; when only tagged submetrics exist (`name{scenario:x}`), the first of them. */
export function stat(summary: K6Summary, metric: string, key: string): number | null {
  const values = summary.metrics[metric] ?? Object.entries(summary.metrics).find(([name]) => name.startsWith(`${metric}{`))?.[1];
  const value = values?.[key];
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

/** Per-second throughput, latencies and errors from k6's JSON output. */
export async function readTimeSeries(file: string): Promise<TimeSeries> {
  const stream = file.endsWith(".gz") ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  const buckets = new Map<number, SecondBucket>();
  let start: number | null = null;
  const bucket = (at: number) => {
    start ??= at;
    const second = Math.max(0, Math.floor((at - start) / 1000));
    let b = buckets.get(second);
    if (!b) buckets.set(second, (b = { second, sent: 0, received: 0, latencies: [], errors: 0 }));
    return b;
  };
  for await (const line of lines) {
    if (!line.includes('"Point"')) continue;
    const parsed = pointSchema.safeParse(JSON.parse(line));
    if (!parsed.success) continue;
    const { metric, data } = parsed.data;
    const at = Date.parse(data.time);
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
