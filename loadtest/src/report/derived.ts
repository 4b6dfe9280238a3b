/**
 * Thresholds k6 cannot express because they relate two metrics recorded by different
 * VUs: the delivered share is receipts (counted by the VU holding the sender's socket)
 * over receipts_expected (counted by the VU that sent). Computed from the summary's
 * counters, so it is exact on one run and on a merge of N runs alike.
 */
import type { K6Summary } from "./k6-results";
import { holds, parseThreshold } from "./thresholds";

export const DELIVERED_THRESHOLD = "rate>0.99";

/** Adds `delivered` (type rate, with its threshold) when the run expected receipts. */
export function withDerivedMetrics(summary: K6Summary): K6Summary {
  const expected = summary.metrics.receipts_expected?.values.count;
  if (expected === undefined) return summary;
  const came = Math.min(expected, summary.metrics.receipts?.values.count ?? 0);
  const values = { rate: expected > 0 ? came / expected : 0, passes: came, fails: expected - came };
  return {
    ...summary,
    metrics: {
      ...summary.metrics,
      delivered: { type: "rate", contains: "default", values, thresholds: { [DELIVERED_THRESHOLD]: { ok: holds(parseThreshold(DELIVERED_THRESHOLD), values) === true } } },
    },
  };
}
