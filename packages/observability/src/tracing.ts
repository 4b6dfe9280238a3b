/**
 * OpenTelemetry tracing for a service process: off unless configured, so an
 * unconfigured service runs with the API's no-op tracer (a span costs a function
 * call). `startTracing` registers one global tracer provider per process; the
 * W3C trace-context propagator comes with it, so `injectTraceContext` writes
 * `traceparent` into outgoing headers and `traceHttpRequest` continues a trace an
 * incoming request carries.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

export type TracesExporterName = "none" | "console" | "otlp";

export interface TracingConfig {
  /** `resource service.name` of every span. */
  serviceName: string;
  /**
   * `otlp` (HTTP/protobuf-JSON to `otlpEndpoint`), `console` (stdout, for a
   * look), `none`, or an exporter object (tests pass an in-memory one, which is
   * exported synchronously).
   */
  exporter: TracesExporterName | SpanExporter;
  /** OTLP base URL (OTEL_EXPORTER_OTLP_ENDPOINT), e.g. http://127.0.0.1:4318; `/v1/traces` is appended. */
  otlpEndpoint?: string | undefined;
}

/**
 * The exporter the standard variables ask for: OTEL_TRACES_EXPORTER wins;
 * otherwise `otlp` when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise none.
 */
export function tracesExporterFromEnv(env: { OTEL_TRACES_EXPORTER?: string | undefined; OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined }): TracesExporterName {
  const named = env.OTEL_TRACES_EXPORTER;
  if (named === "none" || named === "console" || named === "otlp") return named;
  if (named !== undefined) throw new Error(`OTEL_TRACES_EXPORTER must be none, console or otlp (got ${JSON.stringify(named)})`);
  return env.OTEL_EXPORTER_OTLP_ENDPOINT ? "otlp" : "none";
}

export interface Tracing {
  /** Flushes and unregisters the provider (the global API is a no-op again). */
  shutdown(): Promise<void>;
}

let active: NodeTracerProvider | null = null;

/** Registers the process's tracer provider; `none` registers nothing. One at a time per process. */
export function startTracing(config: TracingConfig): Tracing {
  if (config.exporter === "none") return { shutdown: async () => {} };
  if (active) throw new Error("tracing is already started in this process: shut it down first");
  let processor: SpanProcessor;
  if (config.exporter === "console") processor = new SimpleSpanProcessor(new ConsoleSpanExporter());
  else if (config.exporter === "otlp") {
    if (!config.otlpEndpoint) throw new Error("OTLP trace export needs OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://127.0.0.1:4318)");
    processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: `${config.otlpEndpoint.replace(/\/+$/, "")}/v1/traces` }));
  } else processor = new SimpleSpanProcessor(config.exporter);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": config.serviceName }),
    spanProcessors: [processor],
  });
  provider.register();
  active = provider;
  return {
    shutdown: async () => {
      if (active !== provider) return;
      active = null;
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** Writes the active span's context (W3C `traceparent`, `tracestate`) into `headers`; nothing when tracing is off. */
export function injectTraceContext(headers: Record<string, string>): Record<string, string> {
  propagation.inject(context.active(), headers);
  return headers;
}

/**
 * Runs `handle` inside a server span for one HTTP request, continuing the trace
 * its `traceparent` names (a new trace without one). The span is named after the
 * tRPC procedure(s) in the path and ends when the response is finished or the
 * connection closes. Without a registered provider this is a plain call.
 */
export function traceHttpRequest(tracer: Tracer, req: IncomingMessage, res: ServerResponse, handle: () => void): void {
  if (!active) {
    handle();
    return;
  }
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const path = (req.url ?? "/").split("?")[0]!;
  const procedures = path.startsWith("/trpc/") ? path.slice("/trpc/".length) : null;
  const span = tracer.startSpan(
    procedures ? `trpc ${procedures}` : `${req.method ?? "GET"} ${path}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        "http.request.method": req.method ?? "GET",
        "url.path": path,
        ...(procedures ? { "rpc.system": "trpc", "rpc.method": procedures } : {}),
      },
    },
    parent,
  );
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    span.setAttribute("http.response.status_code", res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
  res.once("finish", end);
  res.once("close", end);
  context.with(trace.setSpan(parent, span), handle);
}
