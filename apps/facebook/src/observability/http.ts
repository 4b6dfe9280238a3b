/**
 * What the Facebook side's HTTP server does before its own routes: answers
 * `/metrics` (guarded by METRICS_TOKEN when set), runs every other request in a
 * server span continuing the caller's W3C trace (the shipper's `traceparent`),
 * and, for an ingest batch that succeeded, records the lag its
 * `x-share-enqueued-at` header tells. `server.ts` wraps its handler with it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { trace } from "@opentelemetry/api";
import { metricsEndpoint, traceHttpRequest } from "@handshake/observability";
import type { FacebookMetrics } from "./metrics";

/**
 * Looked up at each use, not once at import: a tracer taken before the provider is
 * registered stays a no-op when the API is loaded twice (as under vitest).
 */
const tracer = () => trace.getTracer("handshake-facebook");

/** Set by the messenger's shipper (`share/shipper.ts`, ENQUEUED_AT_HEADER): ms since epoch. */
const ENQUEUED_AT_HEADER = "x-share-enqueued-at";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export function observed(metrics: FacebookMetrics, metricsToken: string | null, handler: Handler): Handler {
  const endpoint = metricsEndpoint(metrics.registry, metricsToken);
  return (req, res) => {
    if (endpoint(req, res)) return;
    const enqueuedAt = Number(req.headers[ENQUEUED_AT_HEADER]);
    if (Number.isFinite(enqueuedAt) && enqueuedAt > 0 && req.url?.startsWith("/trpc/ingest.batch")) {
      res.once("finish", () => {
        if (res.statusCode === 200) metrics.ingestLag((Date.now() - enqueuedAt) / 1000);
      });
    }
    traceHttpRequest(tracer(), req, res, () => handler(req, res));
  };
}
