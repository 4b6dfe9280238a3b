/**
 * The Facebook side's Prometheus metrics (prom-client), one registry per server.
 * Every tRPC call passes `observeCall` (the base procedure's middleware in
 * `trpc.ts`): counted by procedure and outcome (`ok` or the error code), timed,
 * and traced as a span under its HTTP request's span. Refusals (no or a wrong
 * credential, an exhausted budget) are also counted on their own. Ingest adds its
 * batches and events, and the lag the shipper's `x-share-enqueued-at` header
 * lets it measure (see `http.ts`).
 */
import { SpanStatusCode, trace } from "@opentelemetry/api";
import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";

/**
 * Looked up at each use, not once at import: a tracer taken before the provider is
 * registered stays a no-op when the API is loaded twice (as under vitest).
 */
const tracer = () => trace.getTracer("handshake-facebook");

/** Error codes that are refusals of the caller, not failures of ours. */
const REFUSALS: ReadonlySet<string> = new Set(["UNAUTHORIZED", "FORBIDDEN", "TOO_MANY_REQUESTS"]);

export class FacebookMetrics {
  readonly registry = new Registry();
  private readonly calls = new Counter({
    name: "facebook_trpc_calls_total",
    help: "tRPC calls by procedure and outcome (ok, or the error code).",
    labelNames: ["procedure", "outcome"],
    registers: [this.registry],
  });
  private readonly audienceCalls = new Counter({
    name: "facebook_audience_calls_total",
    help: "Custom Audience calls (audiences.*) by procedure and outcome (ok, or the error code).",
    labelNames: ["procedure", "outcome"],
    registers: [this.registry],
  });
  private readonly refused = new Counter({
    name: "facebook_refused_calls_total",
    help: "Calls refused for the caller's credential or budget (UNAUTHORIZED, FORBIDDEN, TOO_MANY_REQUESTS).",
    labelNames: ["procedure", "code"],
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: "facebook_trpc_call_duration_seconds",
    help: "Time to answer a tRPC call, by procedure.",
    labelNames: ["procedure"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly batches = new Counter({
    name: "facebook_ingest_batches_total",
    help: "Share event batches ingested (acknowledged to the shipper).",
    registers: [this.registry],
  });
  private readonly events = new Counter({
    name: "facebook_ingest_events_total",
    help: "Share events ingested: accepted (new) or duplicate (seen before, changed nothing).",
    labelNames: ["result"],
    registers: [this.registry],
  });
  private readonly lag = new Histogram({
    name: "facebook_ingest_lag_seconds",
    help: "From the messenger's outbox commit of a batch's oldest event to its ingest here (wall clock of both machines).",
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Zero series for the outcomes a dashboard plots, so a rate() exists before the first event.
    this.events.inc({ result: "accepted" }, 0);
    this.events.inc({ result: "duplicate" }, 0);
  }

  /** Runs a tRPC call (its middleware chain) in a span, and counts and times it. */
  observeCall<R extends { ok: true } | { ok: false; error: { code: string; message: string } }>(path: string, next: () => Promise<R>): Promise<R> {
    const started = performance.now();
    return tracer().startActiveSpan(path, { attributes: { "rpc.system": "trpc", "rpc.method": path } }, async (span) => {
      try {
        const result = await next();
        const outcome = result.ok ? "ok" : result.error.code;
        this.calls.inc({ procedure: path, outcome });
        if (path.startsWith("audiences.")) this.audienceCalls.inc({ procedure: path, outcome });
        if (!result.ok) {
          if (REFUSALS.has(outcome)) this.refused.inc({ procedure: path, code: outcome });
          span.setStatus({ code: SpanStatusCode.ERROR, message: result.error.message });
          span.setAttribute("trpc.error_code", outcome);
        }
        return result;
      } finally {
        this.duration.observe({ procedure: path }, (performance.now() - started) / 1000);
        span.end();
      }
    });
  }

  ingested(accepted: number, duplicates: number): void {
    this.batches.inc();
    this.events.inc({ result: "accepted" }, accepted);
    this.events.inc({ result: "duplicate" }, duplicates);
  }

  ingestLag(seconds: number): void {
    this.lag.observe(Math.max(0, seconds));
  }
}
