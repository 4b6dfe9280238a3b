/**
 * Several messenger nodes on one machine, one address: a primary process forks
 * MESSENGER_NODES workers (node's `cluster` module), each a full messenger
 * (`main.ts`) joined to the others through NATS. The workers share the listening
 * socket: the primary accepts each connection and hands its descriptor to a worker
 * in turn, then holds nothing, so every worker can fill its own 20,000 open files
 * (a reverse proxy would hold two descriptors per connection in one process).
 *
 * The primary resolves the database once (starting embedded PostgreSQL if no URL is
 * given) and restarts a worker that dies, after a short backoff. SIGTERM/SIGINT stop
 * the workers (each drains as `main.ts` does), then the primary.
 *
 * On separate machines, run `main.ts` (pnpm start) on each with the same NATS_URL and
 * DATABASE_URL and its own NODE_ID, behind any TCP load balancer.
 */
import cluster, { type Worker } from "node:cluster";
import { hostname } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { resolveDatabase } from "@handshake/db/resolve";
import { readEnv } from "./env";
import { createLogger } from "./log";
import { serveClusterMetrics } from "./observability/cluster-metrics";

const env = readEnv();
if (!env.NATS_URL) throw new Error("several nodes need a bus: set NATS_URL (e.g. nats://127.0.0.1:4222; apt-get install nats-server)");
const logger = createLogger({ level: env.LOG_LEVEL }).child({ role: "cluster" });

const database = await resolveDatabase({
  url: env.MESSENGER_DATABASE_URL,
  serverUrl: env.DATABASE_URL,
  database: "handshake_messenger",
  dataDir: path.join(env.HANDSHAKE_DATA_DIR, "postgres"),
});
const baseId = env.NODE_ID ?? hostname().replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 40);

cluster.setupPrimary({
  exec: fileURLToPath(new URL("./main.ts", import.meta.url)),
  execArgv: ["--import", "tsx"],
});

let stopping = false;
const restarts: number[] = [];
function fork(slot: number): Worker {
  const worker = cluster.fork({ MESSENGER_DATABASE_URL: database.url, NODE_ID: `${baseId}-${slot}-${Date.now().toString(36)}` });
  worker.once("exit", (code, signal) => {
    if (stopping) return;
    // Back off when workers keep dying (e.g. the database is down): at most 5 restarts a minute per cluster.
    const now = Date.now();
    while (restarts.length > 0 && restarts[0]! < now - 60_000) restarts.shift();
    restarts.push(now);
    const delay = restarts.length > 5 ? 5_000 : 200;
    logger.warn({ slot, pid: worker.process.pid, code, signal, restartInMs: delay }, "messenger node exited; restarting it");
    setTimeout(() => {
      if (!stopping) fork(slot);
    }, delay);
  });
  return worker;
}
for (let slot = 0; slot < env.MESSENGER_NODES; slot++) fork(slot);
const metricsServer = env.METRICS_PORT === undefined ? null : await serveClusterMetrics(env.METRICS_PORT, env.HOST, env.METRICS_TOKEN ?? null);
logger.info({ nodes: env.MESSENGER_NODES, port: env.PORT, metricsPort: env.METRICS_PORT ?? null, nats: env.NATS_URL, pid: process.pid }, "messenger cluster started");

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping messenger nodes");
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w));
    const exited = workers.map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once("exit", () => resolve()))));
    for (const w of workers) w.process.kill("SIGTERM");
    metricsServer?.close();
    const force = setTimeout(() => {
      for (const w of workers) if (!w.isDead()) w.process.kill("SIGKILL");
    }, 15_000);
    void Promise.all(exited)
      .then(() => clearTimeout(force))
      .then(() => database.embedded?.stop())
      .then(() => process.exit(0));
  });
}
