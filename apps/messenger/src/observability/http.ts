/**
 * What the messenger's HTTP server does before its own routes: answers
 * `/metrics` (guarded by METRICS_TOKEN when set) and runs every other request in
 * a server span that continues the caller's trace (a no-op while tracing is off).
 * `server.ts` wraps its request handler with it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { trace } from "@opentelemetry/api";
import { metricsEndpoint, traceHttpRequest } from "@handshake/observability";
import type { Registry } from "prom-client";
import { exposeToClusterPrimary } from "./cluster-metrics";

/**
 * Looked up at each use, not once at import: a tracer taken before the provider is
 * registered stays a no-op when the API is loaded twice (as under vitest).
 */
const tracer = () => trace.getTracer("handshake-messenger");

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export function observed(registry: Registry, metricsToken: string | null, handler: Handler): Handler {
  const metrics = metricsEndpoint(registry, metricsToken);
  exposeToClusterPrimary(registry);
  return (req, res) => {
    if (metrics(req, res)) return;
    traceHttpRequest(tracer(), req, res, () => handler(req, res));
  };
}
