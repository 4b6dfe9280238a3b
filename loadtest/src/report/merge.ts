/**
 * The summary of N generators' runs of one test (execution segments, or k6-operator
 * runners), with every threshold evaluated again on the merged data: a threshold one
 * generator passes on its share can fail on the whole, and the reverse.
 *
 * Counters and Rates merge exactly from the summaries (counts, passes and fails add
 * up). Trend percentiles do not: they are recomputed from the raw samples in each
 * run's k6 JSON output (`--out json`) when every run has one. Without them the merge
 * can only bound a trend: p(x) of the union is at most the largest p(x) of the parts
 * (and at least the smallest), so it takes the largest; a `<` threshold that holds on
 * that bound holds, one that fails is marked as failed on a bound, not measured.
 */
import { readPoints, type K6Metric, type K6Summary } from "./k6-results";
import { holds, matchesTags, parseMetricKey, parseThreshold, valuesOf } from "./thresholds";

export interface RunData {
  summary: K6Summary;
  /** The run's k6 JSON output (metrics.json or metrics.json.gz), if it has one. */
  metricsFile?: string | undefined;
}

function mergeNonTrend(type: K6Metric["type"], parts: Record<string, number>[], durationMs: number): Record<string, number> {
  const sum = (k: string) => parts.reduce((a, p) => a + (p[k] ?? 0), 0);
  switch (type) {
    case "counter":
      return { count: sum("count"), rate: durationMs > 0 ? sum("count") / (durationMs / 1000) : 0 };
    case "rate": {
      const passes = sum("passes");
      const fails = sum("fails");
      return { rate: passes + fails > 0 ? passes / (passes + fails) : 0, passes, fails };
    }
    case "gauge":
      // Gauges are last values per generator; the merged one reports the largest.
      return { value: Math.max(...parts.map((p) => p.value ?? 0)), min: Math.min(...parts.map((p) => p.min ?? 0)), max: Math.max(...parts.map((p) => p.max ?? 0)) };
    case "trend":
      throw new Error("trends are merged from samples");
  }
}

/** Trend samples per summary key, read from every run's JSON output. */
async function trendSamples(runs: RunData[], trendKeys: string[]): Promise<Map<string, number[]>> {
  const wanted = trendKeys.map((key) => ({ key, ...parseMetricKey(key) }));
  const byName = new Map<string, typeof wanted>();
  for (const w of wanted) byName.set(w.name, [...(byName.get(w.name) ?? []), w]);
  const out = new Map<string, number[]>(trendKeys.map((k) => [k, []]));
  for (const run of runs) {
    for await (const point of readPoints(run.metricsFile!)) {
      for (const w of byName.get(point.metric) ?? []) if (matchesTags(w.tags, point.tags)) out.get(w.key)!.push(point.value);
    }
  }
  return out;
}

export async function mergeSummaries(runs: RunData[]): Promise<K6Summary> {
  if (runs.length === 0) throw new Error("nothing to merge");
  const durationMs = Math.max(...runs.map((r) => r.summary.state?.testRunDurationMs ?? 0));
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.summary.metrics)))];
  const metricOf = (key: string) => runs.map((r) => r.summary.metrics[key]).filter((m): m is K6Metric => m !== undefined);
  const trendKeys = keys.filter((k) => metricOf(k)[0]!.type === "trend");
  const exact = runs.every((r) => r.metricsFile);
  const samples = exact ? await trendSamples(runs, trendKeys) : null;
  const metrics: Record<string, K6Metric> = {};
  for (const key of keys) {
    const parts = metricOf(key);
    const { type, contains } = parts[0]!;
    let values: Record<string, number>;
    let bounded = false;
    if (type !== "trend") values = mergeNonTrend(type, parts.map((p) => p.values), durationMs);
    else if (samples) values = valuesOf("trend", samples.get(key)!, durationMs, [...new Set(parts.flatMap((p) => Object.keys(p.values)))]);
    else {
      bounded = true;
      values = {};
      for (const stat of new Set(parts.flatMap((p) => Object.keys(p.values)))) {
        const each = parts.map((p) => p.values[stat]).filter((v): v is number => v !== undefined);
        values[stat] = stat === "min" ? Math.min(...each) : stat === "count" ? each.reduce((a, b) => a + b, 0) : Math.max(...each);
      }
    }
    const expressions = [...new Set(parts.flatMap((p) => Object.keys(p.thresholds ?? {})))];
    const thresholds: NonNullable<K6Metric["thresholds"]> = {};
    for (const expression of expressions) {
      const parsed = parseThreshold(expression);
      const ok = holds(parsed, values) === true;
      const onBound = bounded && parsed.aggregation !== "min" && parsed.aggregation !== "max";
      thresholds[expression] = onBound ? { ok: ok && parsed.operator.startsWith("<"), note: `upper bound from ${parts.length} summaries, no raw samples` } : { ok };
    }
    metrics[key] = { type, contains, values, ...(expressions.length > 0 ? { thresholds } : {}) };
  }
  return { metrics, state: { testRunDurationMs: durationMs } };
}
