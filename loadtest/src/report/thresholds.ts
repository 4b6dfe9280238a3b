/**
 * k6's threshold expressions, parsed and evaluated the way k6 does (grafana/k6
 * metrics/thresholds_parser.go, thresholds.go, metric_type.go), for the merge of N
 * summaries and for the compat smoke's summaries: `<aggregation> <op> <number>`, with
 * the aggregations each metric type supports, on `name` or `name{tag:value,…}`.
 */

export type MetricType = "counter" | "gauge" | "rate" | "trend";

export interface ThresholdExpression {
  /** The key in a metric's values: "p(99)", "rate", "count", "med", … */
  aggregation: string;
  operator: "<" | "<=" | ">" | ">=" | "==" | "===" | "!=";
  value: number;
}

/** grafana/k6 metrics/metric_type.go supportedAggregationMethods. */
const SUPPORTED: Record<MetricType, RegExp> = {
  counter: /^(count|rate)$/,
  gauge: /^value$/,
  rate: /^rate$/,
  trend: /^(avg|min|max|med|p\(\d+(\.\d+)?\))$/,
};

export function parseThreshold(source: string): ThresholdExpression {
  const match = source.trim().match(/^([a-z]+(?:\(\s*\d+(?:\.\d+)?\s*\))?)\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/i);
  if (!match) throw new Error(`invalid threshold expression "${source}"`);
  return { aggregation: match[1]!.replace(/\s+/g, ""), operator: match[2] as ThresholdExpression["operator"], value: Number(match[3]) };
}

/** Throws as k6 does at start-up when an aggregation does not apply to the metric's type. */
export function checkAggregation(metric: string, type: MetricType, expression: ThresholdExpression): void {
  if (!SUPPORTED[type].test(expression.aggregation)) {
    throw new Error(`invalid threshold on ${metric}: unsupported aggregation method ${expression.aggregation} on metric of type ${type}`);
  }
}

/**
 * Whether the threshold holds on these values. An empty sink still has values at the
 * end of a test (rate 0, percentiles 0, count 0: metrics/sink.go), so no value means
 * the aggregation is not in the summary (e.g. a percentile not in summaryTrendStats).
 */
export function holds(expression: ThresholdExpression, values: Record<string, number>): boolean | null {
  const lhs = values[expression.aggregation === "p(50)" && values["p(50)"] === undefined ? "med" : expression.aggregation];
  if (lhs === undefined) return null;
  const rhs = expression.value;
  switch (expression.operator) {
    case "<":
      return lhs < rhs;
    case "<=":
      return lhs <= rhs;
    case ">":
      return lhs > rhs;
    case ">=":
      return lhs >= rhs;
    case "==":
    case "===":
      return lhs === rhs;
    case "!=":
      return lhs !== rhs;
  }
}

/** `name{a:b,c:d}` -> name and tag filter. */
export function parseMetricKey(key: string): { name: string; tags: Record<string, string> } {
  const brace = key.indexOf("{");
  if (brace < 0) return { name: key, tags: {} };
  if (!key.endsWith("}")) throw new Error(`invalid submetric "${key}"`);
  const tags: Record<string, string> = {};
  for (const pair of key.slice(brace + 1, -1).split(",")) {
    const colon = pair.indexOf(":");
    if (colon <= 0) throw new Error(`invalid submetric "${key}"`);
    tags[pair.slice(0, colon).trim()] = pair.slice(colon + 1).trim();
  }
  return { name: key.slice(0, brace), tags };
}

export const matchesTags = (filter: Record<string, string>, tags: Record<string, string> | null | undefined) =>
  Object.entries(filter).every(([k, v]) => tags?.[k] === v);

/**
 * A trend's percentile as k6 computes it (metrics/sink.go TrendSink.P): the value at
 * rank pct × (n − 1), interpolated linearly between its neighbours.
 */
export function percentileOf(sorted: number[], pct: number): number {
  if (sorted.length === 0) return 0;
  if (sorted.length === 1) return sorted[0]!;
  const at = pct * (sorted.length - 1);
  const lower = Math.floor(at);
  const upper = Math.ceil(at);
  return lower === upper ? sorted[lower]! : sorted[lower]! + (at - lower) * (sorted[upper]! - sorted[lower]!);
}

/** A metric's values as k6's summary gives them (internal/js/summary.go metricValueGetter). */
export function valuesOf(type: MetricType, samples: number[], durationMs: number, trendStats: string[]): Record<string, number> {
  const seconds = durationMs / 1000;
  switch (type) {
    case "counter": {
      const count = samples.reduce((a, b) => a + b, 0);
      return { count, rate: seconds > 0 ? count / seconds : 0 };
    }
    case "gauge":
      return samples.length === 0 ? { value: 0, min: 0, max: 0 } : { value: samples.at(-1)!, min: Math.min(...samples), max: Math.max(...samples) };
    case "rate": {
      const passes = samples.filter((v) => v !== 0).length;
      return { rate: samples.length > 0 ? passes / samples.length : 0, passes, fails: samples.length - passes };
    }
    case "trend": {
      const sorted = [...samples].sort((a, b) => a - b);
      const out: Record<string, number> = {};
      for (const stat of trendStats) {
        const p = stat.match(/^p\((\d+(?:\.\d+)?)\)$/);
        if (p) out[stat] = percentileOf(sorted, Number(p[1]) / 100);
        else if (stat === "avg") out.avg = sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : 0;
        else if (stat === "min") out.min = sorted[0] ?? 0;
        else if (stat === "max") out.max = sorted.at(-1) ?? 0;
        else if (stat === "med") out.med = percentileOf(sorted, 0.5);
        else if (stat === "count") out.count = sorted.length;
      }
      return out;
    }
  }
}
