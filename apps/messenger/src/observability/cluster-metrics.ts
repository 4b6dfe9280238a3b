/**
 * Metrics of several nodes under `cluster.ts`. The workers share one listening
 * port, so a scrape of `PORT/metrics` reaches whichever worker the primary hands
 * the connection to: each node's own page, labelled `node`. For one page with
 * every worker's series, the primary serves prom-client's AggregatorRegistry on
 * METRICS_PORT: it asks each worker over the cluster IPC channel for its
 * registry and merges them. Series keep their `node` label, so nothing is summed
 * across nodes by accident; database-wide gauges (queue depth, outbox) appear once
 * per node with the same value (take `max`).
 */
import cluster from "node:cluster";
import { createServer, type Server } from "node:http";
import { metricsEndpoint } from "@handshake/observability";
import { AggregatorRegistry, type Registry } from "prom-client";

/** In a cluster worker: answer the primary's requests for this node's registry. */
export function exposeToClusterPrimary(registry: Registry): void {
  if (!cluster.isWorker) return;
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs the worker's IPC listener
}

/** In the primary: serves all workers' metrics at `/metrics` on `port`. */
export function serveClusterMetrics(port: number, host: string, token: string | null): Promise<Server> {
  const aggregator = new AggregatorRegistry();
  const endpoint = metricsEndpoint(async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }), token);
  const server = createServer((req, res) => {
    if (endpoint(req, res)) return;
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("the cluster's metrics are at /metrics\n");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
