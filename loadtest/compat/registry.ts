/**
 * What the shims saw while a scenario ran under the compat smoke: checks, metric
 * samples (with their tags, as k6 would tag them) and the metrics the script declared.
 * Not a load measurement: enough to fail on a failed check and to write the summary
 * k6 would hand to handleSummary.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { MetricType } from "../src/report/thresholds";

export interface CheckOutcome {
  name: string;
  ok: boolean;
}

export interface Sample {
  metric: string;
  value: number;
  time: number;
  tags: Record<string, string>;
}

interface Registry {
  checks: CheckOutcome[];
  samples: Sample[];
  /** Metrics declared (custom, in the init context) or emitted (built-in). */
  metrics: Map<string, { type: MetricType; contains: "default" | "time" }>;
  reset(): void;
  add(metric: string, value: number, tags?: Record<string, string | number | boolean>): void;
  failedChecks(): string[];
  values(metric: string): number[];
}

/** The iteration a shim call belongs to (k6 knows it per VU; here it follows async calls). */
export interface IterationContext {
  /** Where this run's samples go (one per simulated generator); the registry's own list by default. */
  sink?: Sample[];
  scenario: { name: string; executor: string; iterationInTest: number; iterationInInstance: number; startTime: number; progress: number };
  vu: { idInTest: number; idInInstance: number; iterationInScenario: number; iterationInInstance: number; tags: Record<string, string>; metrics: { tags: Record<string, string>; metadata: Record<string, string> } };
}

// One of each per process even when vitest re-evaluates modules between scenarios.
const shared = globalThis as { __k6CompatRegistry?: Registry; __k6CompatScope?: AsyncLocalStorage<IterationContext> };

export const iterationScope: AsyncLocalStorage<IterationContext> = (shared.__k6CompatScope ??= new AsyncLocalStorage<IterationContext>());

const fresh: Registry = {
  checks: [],
  samples: [],
  metrics: new Map(),
  reset() {
    this.checks = [];
    this.samples = [];
    this.metrics = new Map();
  },
  add(metric, value, tags = {}) {
    const store = iterationScope.getStore();
    const scenario = store?.scenario.name;
    const stringTags: Record<string, string> = scenario ? { scenario } : {};
    for (const [k, v] of Object.entries(tags)) stringTags[k] = String(v);
    (store?.sink ?? this.samples).push({ metric, value, time: Date.now(), tags: stringTags });
  },
  failedChecks(): string[] {
    return [...new Set(this.checks.filter((c) => !c.ok).map((c) => c.name))];
  },
  values(metric: string): number[] {
    return this.samples.filter((s) => s.metric === metric).map((s) => s.value);
  },
};

export const registry: Registry = (shared.__k6CompatRegistry ??= fresh);

const initContext: IterationContext = {
  scenario: { name: "", executor: "", iterationInTest: 0, iterationInInstance: 0, startTime: 0, progress: 0 },
  vu: { idInTest: 0, idInInstance: 0, iterationInScenario: 0, iterationInInstance: 0, tags: {}, metrics: { tags: {}, metadata: {} } },
};

/** k6/execution's view of the current iteration, set by the harness per iteration. */
export const executionContext = {
  get scenario() {
    return (iterationScope.getStore() ?? initContext).scenario;
  },
  get vu() {
    return (iterationScope.getStore() ?? initContext).vu;
  },
};

/** k6's built-in metrics and their types (grafana/k6 metrics/builtin.go), for threshold validation. */
export const BUILTIN_METRICS: Record<string, { type: MetricType; contains: "default" | "time" }> = {
  checks: { type: "rate", contains: "default" },
  data_received: { type: "counter", contains: "default" },
  data_sent: { type: "counter", contains: "default" },
  dropped_iterations: { type: "counter", contains: "default" },
  group_duration: { type: "trend", contains: "time" },
  http_req_blocked: { type: "trend", contains: "time" },
  http_req_connecting: { type: "trend", contains: "time" },
  http_req_duration: { type: "trend", contains: "time" },
  http_req_failed: { type: "rate", contains: "default" },
  http_req_receiving: { type: "trend", contains: "time" },
  http_req_sending: { type: "trend", contains: "time" },
  http_req_tls_handshaking: { type: "trend", contains: "time" },
  http_req_waiting: { type: "trend", contains: "time" },
  http_reqs: { type: "counter", contains: "default" },
  iteration_duration: { type: "trend", contains: "time" },
  iterations: { type: "counter", contains: "default" },
  vus: { type: "gauge", contains: "default" },
  vus_max: { type: "gauge", contains: "default" },
  ws_connecting: { type: "trend", contains: "time" },
  ws_msgs_received: { type: "counter", contains: "default" },
  ws_msgs_sent: { type: "counter", contains: "default" },
  ws_ping: { type: "trend", contains: "time" },
  ws_session_duration: { type: "trend", contains: "time" },
  ws_sessions: { type: "counter", contains: "default" },
};
