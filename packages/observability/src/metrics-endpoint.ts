/**
 * Serves a prom-client registry at `/metrics` in Prometheus' text format.
 *
 * Guard: with a token configured (METRICS_TOKEN), a scrape must send
 * `Authorization: Bearer <token>` (Prometheus' `authorization` scrape setting);
 * without one the endpoint is open, which is what a service bound to 127.0.0.1
 * (the default) wants. A separate token rather than ADMIN_TOKEN: the scraper's
 * credential then cannot move the simulation clock or read admin views.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Registry } from "prom-client";

export const METRICS_PATH = "/metrics";

function same(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Produces a page (a registry, or e.g. prom-client's AggregatorRegistry over cluster workers). */
export type MetricsRenderer = () => Promise<{ contentType: string; body: string }>;

/**
 * Returns a request handler that answers `/metrics` and returns `true`, or
 * returns `false` for any other path (the server's own routes then run).
 */
export function metricsEndpoint(registry: Registry | MetricsRenderer, token: string | null) {
  const render: MetricsRenderer =
    typeof registry === "function" ? registry : async () => ({ contentType: registry.contentType, body: await registry.metrics() });
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.url !== METRICS_PATH && !req.url?.startsWith(`${METRICS_PATH}?`)) return false;
    if (token !== null) {
      const header = req.headers.authorization ?? "";
      if (!header.startsWith("Bearer ") || !same(header.slice(7).trim(), token)) {
        res.writeHead(401, { "content-type": "text/plain", "www-authenticate": 'Bearer realm="metrics"' });
        res.end("metrics need Authorization: Bearer <METRICS_TOKEN>\n");
        return true;
      }
    }
    render()
      .then(({ contentType, body }) => {
        res.writeHead(200, { "content-type": contentType });
        res.end(body);
      })
      .catch((err: unknown) => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(`metrics could not be collected: ${err instanceof Error ? err.message : String(err)}\n`);
      });
    return true;
  };
}
