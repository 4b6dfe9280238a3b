/**
 * The options check k6 does before a test starts, for the compat smoke:
 * - scenario configs are decoded strictly (grafana/k6 lib/executors.go and each
 *   lib/executor/*.go use lib.StrictJSONUnmarshal: an unknown field is an error);
 * - an unknown top-level option only gets a warning in k6 ("There were unknown fields in
 *   the options exported in the script", internal/js/bundle.go): refused here, since it
 *   is always a typo or an option of another k6 version;
 * - thresholds must name a metric that exists, with an aggregation its type supports
 *   (metrics/thresholds.go validation), else k6 refuses to start.
 */
import { BUILTIN_METRICS } from "./registry";
import { checkAggregation, parseMetricKey, parseThreshold, type MetricType } from "../src/report/thresholds";

/** Top-level options: the JSON names in grafana/k6 lib/options.go (localIPs is CLI/env only: json:"-"). */
const TOP_LEVEL = new Set([
  "batch", "batchPerHost", "blacklistIPs", "blockHostnames", "discardResponseBodies", "dns", "duration", "executionSegment",
  "executionSegmentSequence", "ext", "features", "handleSummaryTimeout", "hosts", "httpDebug", "insecureSkipTLSVerify", "iterations",
  "maxRedirects", "metricSamplesBufferSize", "minIterationDuration", "noConnectionReuse", "noCookiesReset", "noSetup", "noTeardown",
  "noVUConnectionReuse", "paused", "rps", "scenarios", "setupTimeout", "stages", "summaryTimeUnit", "summaryTrendStats", "systemTags",
  "tags", "teardownTimeout", "thresholds", "throw", "tlsAuth", "tlsCipherSuites", "tlsVersion", "userAgent", "vus",
]);

const COMMON = ["executor", "startTime", "gracefulStop", "env", "exec", "tags", "options"];
/** Fields per executor (lib/executor/*.go config structs). */
const EXECUTORS: Record<string, { fields: string[]; required: string[] }> = {
  "shared-iterations": { fields: ["vus", "iterations", "maxDuration"], required: [] },
  "per-vu-iterations": { fields: ["vus", "iterations", "maxDuration"], required: [] },
  "constant-vus": { fields: ["vus", "duration"], required: ["duration"] },
  "ramping-vus": { fields: ["startVUs", "stages", "gracefulRampDown"], required: ["stages"] },
  "constant-arrival-rate": { fields: ["rate", "timeUnit", "duration", "preAllocatedVUs", "maxVUs"], required: ["rate", "duration", "preAllocatedVUs"] },
  "ramping-arrival-rate": { fields: ["startRate", "timeUnit", "stages", "preAllocatedVUs", "maxVUs"], required: ["stages", "preAllocatedVUs"] },
  "externally-controlled": { fields: ["vus", "maxVUs", "duration"], required: [] },
};

const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;
const SYSTEM_TAGS = new Set(["proto", "subproto", "status", "method", "url", "name", "group", "check", "error", "error_code", "tls_version", "scenario", "service", "expected_response", "vu", "iter", "ip", "ocsp_status"]);

function checkScenario(name: string, config: Record<string, unknown>): void {
  const executor = EXECUTORS[String(config.executor)];
  if (!executor) throw new Error(`scenario ${name}: unknown executor "${String(config.executor)}"`);
  for (const key of Object.keys(config)) {
    if (!COMMON.includes(key) && !executor.fields.includes(key)) throw new Error(`scenario ${name}: json: unknown field "${key}"`);
  }
  for (const key of executor.required) if (config[key] === undefined) throw new Error(`scenario ${name}: ${key} is required for ${String(config.executor)}`);
  for (const key of ["startTime", "gracefulStop", "maxDuration", "duration", "timeUnit", "gracefulRampDown"]) {
    if (config[key] !== undefined && !DURATION.test(String(config[key]))) throw new Error(`scenario ${name}: ${key} "${String(config[key])}" is not a duration`);
  }
  for (const key of ["vus", "iterations", "rate", "preAllocatedVUs", "maxVUs", "startRate", "startVUs"]) {
    const v = config[key];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 0)) throw new Error(`scenario ${name}: ${key} must be a non-negative integer, got ${String(v)}`);
  }
  if (config.rate === 0) throw new Error(`scenario ${name}: rate must be more than 0`);
  const stages = config.stages as Array<Record<string, unknown>> | undefined;
  for (const stage of stages ?? []) {
    for (const key of Object.keys(stage)) if (key !== "duration" && key !== "target") throw new Error(`scenario ${name}: stage: json: unknown field "${key}"`);
    if (!DURATION.test(String(stage.duration)) || !Number.isInteger(stage.target)) throw new Error(`scenario ${name}: bad stage ${JSON.stringify(stage)}`);
  }
  if (typeof config.exec !== "string") throw new Error(`scenario ${name}: give exec (the exported function it runs)`);
}

/** Throws what k6 would refuse (or, for unknown top-level options, warn about). */
export function checkOptions(options: Record<string, unknown>, declared: Map<string, { type: MetricType }>): void {
  for (const key of Object.keys(options)) if (!TOP_LEVEL.has(key)) throw new Error(`unknown option "${key}"`);
  for (const tag of (options.systemTags as string[] | undefined) ?? []) if (!SYSTEM_TAGS.has(tag)) throw new Error(`systemTags: unknown tag "${tag}"`);
  for (const key of ["setupTimeout", "teardownTimeout"]) {
    if (options[key] !== undefined && !DURATION.test(String(options[key]))) throw new Error(`${key} "${String(options[key])}" is not a duration`);
  }
  const scenarios = (options.scenarios ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, config] of Object.entries(scenarios)) checkScenario(name, config);
  for (const [key, list] of Object.entries((options.thresholds ?? {}) as Record<string, unknown[]>)) {
    const { name } = parseMetricKey(key);
    const metric = declared.get(name) ?? BUILTIN_METRICS[name];
    if (!metric) throw new Error(`invalid threshold defined on ${key}; reason: no metric name "${name}" found`);
    for (const threshold of list) {
      const source = typeof threshold === "string" ? threshold : (threshold as { threshold?: string }).threshold;
      if (typeof threshold === "object") {
        for (const k of Object.keys(threshold as object)) {
          if (!["threshold", "abortOnFail", "delayAbortEval"].includes(k)) throw new Error(`threshold on ${key}: json: unknown field "${k}"`);
        }
      }
      if (typeof source !== "string") throw new Error(`threshold on ${key}: no expression`);
      checkAggregation(key, metric.type, parseThreshold(source));
    }
  }
}
