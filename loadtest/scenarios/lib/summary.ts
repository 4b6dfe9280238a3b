/**
 * handleSummary: k6 calls it once at the end with the summary data (grafana/k6
 * internal/js/summary.go summarizeMetricsToObject: per metric `type`, `contains`,
 * `values` and `thresholds: { "<expr>": { ok } }`). Writes it as JSON to SUMMARY_PATH
 * (the runner sets it; the merge of N runs reads these) and prints a short text summary
 * instead of k6's (a returned `stdout` replaces it: internal/js/summary-wrapper.js).
 *
 * With N generators sharing one results volume (k6-operator), SUMMARY_PATH may hold
 * `{segment}`: it is replaced by this instance's execution segment ("1/4:2/4" ->
 * "1-4_2-4"), read from exec.test.options (the consolidated options: grafana/k6
 * internal/js/modules/k6/execution/execution.go optionsAsObject).
 */
import exec from "k6/execution";

export interface SummaryMetric {
  type: "counter" | "gauge" | "rate" | "trend";
  contains: string;
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

export interface SummaryData {
  metrics: Record<string, SummaryMetric>;
  state?: { testRunDurationMs?: number };
  [key: string]: unknown;
}

const show = (v: number | undefined) => (v === undefined ? "-" : Math.abs(v) >= 100 ? Math.round(v).toString() : v.toFixed(2));

function text(data: SummaryData): string {
  const lines: string[] = [];
  const names = Object.keys(data.metrics).sort();
  const failed: string[] = [];
  for (const name of names) {
    const metric = data.metrics[name]!;
    for (const [expression, result] of Object.entries(metric.thresholds ?? {})) {
      lines.push(`${result.ok ? "  ok    " : "  FAILED"} ${name}: ${expression}`);
      if (!result.ok) failed.push(`${name} ${expression}`);
    }
  }
  lines.push("");
  for (const name of names) {
    const { type, values } = data.metrics[name]!;
    const shown =
      type === "trend"
        ? `med ${show(values.med)}  p(95) ${show(values["p(95)"])}  p(99) ${show(values["p(99)"])}  max ${show(values.max)}`
        : type === "rate"
          ? `${show((values.rate ?? 0) * 100)}% of ${(values.passes ?? 0) + (values.fails ?? 0)}`
          : type === "counter"
            ? `${show(values.count)} (${show(values.rate)}/s)`
            : `${show(values.value)} (min ${show(values.min)}, max ${show(values.max)})`;
    lines.push(`  ${name.padEnd(48)} ${shown}`);
  }
  return `\nthresholds${failed.length > 0 ? ` (${failed.length} FAILED)` : ""}:\n${lines.join("\n")}\n\n`;
}

function segmentName(): string {
  try {
    const segment = exec.test.options.executionSegment;
    return segment ? String(segment).replace(/\//g, "-").replace(/:/g, "_") : "all";
  } catch {
    return "all"; // no test options here (e.g. the compat shims): one instance
  }
}

export function handleSummary(data: SummaryData): Record<string, string> {
  const path = (__ENV.SUMMARY_PATH || "summary.json").replace("{segment}", segmentName());
  return { [path]: JSON.stringify(data, null, 1), stdout: text(data) };
}
