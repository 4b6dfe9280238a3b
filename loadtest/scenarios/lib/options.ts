/**
 * Options every scenario shares, and threshold helpers. Scenario files add their
 * own `scenarios` and thresholds on top.
 */
import type { Options, Threshold } from "k6/options";
import { HTTP_IN_FLIGHT_PER_VU } from "../../src/model/timeline.ts";

/**
 * k6's default system tags (grafana/k6 metrics/system_tag.go, DefaultSystemTagSet)
 * without `url` and `tls_version`: a query's input is in its URL, so a `url` tag would
 * make one time series per distinct input; `name` (set per procedure) groups them.
 */
export const SYSTEM_TAGS = ["proto", "subproto", "status", "method", "name", "group", "check", "error", "error_code", "scenario", "service", "expected_response"];

export const baseOptions: Options = {
  systemTags: SYSTEM_TAGS,
  // batchPerHost is also the idle connections k6 keeps per host for a VU
  // (internal/js/runner.go: MaxIdleConnsPerHost), and batch the idle total: a VU's
  // HTTP_IN_FLIGHT_PER_VU concurrent calls then reuse their connections.
  batch: HTTP_IN_FLIGHT_PER_VU,
  batchPerHost: HTTP_IN_FLIGHT_PER_VU,
  summaryTrendStats: ["avg", "min", "med", "max", "p(90)", "p(95)", "p(99)", "count"],
};

/**
 * An invariant: k6 stops the test as soon as it is broken (abortOnFail), since every
 * later sample is measured on a system already known to be wrong.
 */
export const invariant = (threshold: string): Threshold => ({ threshold, abortOnFail: true });

/** A sender scenario (arrival rate): HTTP failures and iterations k6 could not start. */
export function senderThresholds(scenario: string): Record<string, Threshold[]> {
  return {
    [`http_req_failed{scenario:${scenario}}`]: ["rate<0.01"],
    // k6 counts an arrival it had no free VU for in dropped_iterations (lib/executor
    // constant_arrival_rate.go): the offered rate was not offered.
    [`dropped_iterations{scenario:${scenario}}`]: ["count==0"],
  };
}

/**
 * A holder scenario (WebSockets): the handshake time k6 measures, and every socket's
 * subscription started. At the end of a test k6 reads an empty Rate as 0 and an empty
 * Trend's percentiles as 0 (metrics/sink.go; internal/metrics/engine/engine.go evaluates
 * the final thresholds without skipping empty sinks), so a Trend threshold would pass
 * with nothing measured: each gets a count threshold beside it.
 */
export function holderThresholds(scenario: string): Record<string, Threshold[]> {
  return {
    [`ws_connecting{scenario:${scenario}}`]: ["p(95)<1000"],
    [`connections_ok{scenario:${scenario}}`]: ["rate>0.99"],
    [`connections_attempted{scenario:${scenario}}`]: ["count>0"],
    [`generator_loop_lag{scenario:${scenario}}`]: ["p(99)<250"],
  };
}
