/**
 * The summary k6 would pass to handleSummary, computed from what the shims recorded
 * (shape: grafana/k6 internal/js/summary.go summarizeMetricsToObject), and the samples
 * as k6's `--out json` writes them. The compat smoke's runs thereby produce the same
 * files a real run does, which the report and the merge of N runs read.
 */
import { writeFile } from "node:fs/promises";
import { BUILTIN_METRICS, registry, type Sample } from "./registry";
import { holds, matchesTags, parseMetricKey, parseThreshold, valuesOf } from "../src/report/thresholds";

const DEFAULT_TREND_STATS = ["avg", "min", "med", "max", "p(90)", "p(95)"];

interface Options {
  thresholds?: Record<string, Array<string | { threshold: string }>>;
  summaryTrendStats?: string[];
}

export function summaryData(options: Options, durationMs: number, setupData: unknown, samples: Sample[] = registry.samples): Record<string, unknown> {
  const trendStats = options.summaryTrendStats ?? DEFAULT_TREND_STATS;
  const typeOf = (name: string) => registry.metrics.get(name) ?? BUILTIN_METRICS[name];
  const keys = new Set<string>([...new Set(samples.map((s) => s.metric))].filter((m) => typeOf(m)));
  for (const key of Object.keys(options.thresholds ?? {})) keys.add(key);
  const metrics: Record<string, unknown> = {};
  for (const key of keys) {
    const { name, tags } = parseMetricKey(key);
    const type = typeOf(name)!;
    const values = valuesOf(type.type, samples.filter((s) => s.metric === name && matchesTags(tags, s.tags)).map((s) => s.value), durationMs, trendStats);
    const expressions = (options.thresholds?.[key] ?? []).map((t) => (typeof t === "string" ? t : t.threshold));
    metrics[key] = {
      type: type.type,
      contains: type.contains,
      values,
      ...(expressions.length > 0 ? { thresholds: Object.fromEntries(expressions.map((e) => [e, { ok: holds(parseThreshold(e), values) !== false }])) } : {}),
    };
  }
  return {
    root_group: { name: "", path: "", id: "d41d8cd98f00b204e9800998ecf8427e", groups: [], checks: [] },
    options: { summaryTrendStats: trendStats, summaryTimeUnit: "", noColor: true },
    state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: durationMs },
    metrics,
    setup_data: setupData ?? null,
  };
}

/** The recorded samples in k6's JSON output format (`Metric` lines, then `Point` lines). */
export async function writeJsonOutput(file: string, samples: Sample[] = registry.samples): Promise<void> {
  const lines: string[] = [];
  for (const name of new Set(samples.map((s) => s.metric))) {
    const type = registry.metrics.get(name) ?? BUILTIN_METRICS[name];
    if (type) lines.push(JSON.stringify({ type: "Metric", data: { type: type.type, contains: type.contains, thresholds: [], submetrics: null }, metric: name }));
  }
  for (const s of samples) lines.push(JSON.stringify({ type: "Point", data: { time: new Date(s.time).toISOString(), value: s.value, tags: s.tags }, metric: s.metric }));
  await writeFile(file, `${lines.join("\n")}\n`);
}
