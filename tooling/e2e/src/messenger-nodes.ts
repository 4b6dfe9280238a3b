/**
 * Messenger nodes as real processes for cross-node tests: one `main.ts` per port
 * (as on separate machines), or `cluster.ts` with N workers on one shared port.
 * Every process is stopped or killed by its pid.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { get } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const messengerDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../apps/messenger");

export interface NodeProcess {
  port: number;
  url: string;
  pid: number;
  /** Everything it printed. */
  output: string[];
  /** SIGKILL: no drain, no goodbye. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export interface NodeEnv {
  port: number;
  databaseUrl: string;
  natsUrl: string;
  nodeId?: string;
  sweepMs?: number;
  /** A shard map file (SHARD_MAP): its databases replace `databaseUrl`. */
  shardMap?: string;
}

function launch(entry: string, env: Record<string, string>, port: number): NodeProcess {
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: messengerDir,
    env: { ...process.env, HOST: "127.0.0.1", PORT: String(port), RATE_LIMITS: "off", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => output.push(chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => output.push(chunk));
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
  return {
    port,
    url: `http://127.0.0.1:${port}/trpc`,
    pid: child.pid!,
    output,
    kill: async () => {
      if (alive(child)) child.kill("SIGKILL");
      await gone;
    },
    stop: async () => {
      if (!alive(child)) return;
      const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
      child.kill("SIGTERM");
      await gone;
      clearTimeout(force);
    },
  };
}

export interface Health {
  ok: boolean;
  nodeId: string | null;
  pid: number;
  connectedDevices: number;
}

/** /healthz over a fresh TCP connection each time (a kept-alive one would always reach the same worker). */
export function health(port: number): Promise<Health | null> {
  return new Promise((resolve) => {
    const request = get({ host: "127.0.0.1", port, path: "/healthz", agent: false }, (response) => {
      let body = "";
      response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      response.on("end", () => {
        try {
          resolve(response.statusCode === 200 ? (JSON.parse(body) as Health) : null);
        } catch {
          resolve(null);
        }
      });
    });
    request.on("error", () => resolve(null));
    request.setTimeout(5_000, () => request.destroy());
  });
}

/** Polls /healthz until `pids` distinct processes answered (the cluster's workers). */
export async function waitForNodes(node: NodeProcess, pids = 1, timeoutMs = 90_000): Promise<Map<number, Health>> {
  const seen = new Map<number, Health>();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const h = await health(node.port);
    if (h) seen.set(h.pid, h);
    if (seen.size >= pids) return seen;
    await new Promise((resolve) => setTimeout(resolve, h ? 20 : 200));
  }
  throw new Error(`messenger on port ${node.port} did not answer from ${pids} process(es) in time:\n${node.output.join("")}`);
}

/** One node, as on its own machine: `main.ts` with NATS_URL, DATABASE_URL and NODE_ID. */
export async function startNode(env: NodeEnv): Promise<NodeProcess> {
  const node = launch(
    "src/main.ts",
    {
      MESSENGER_DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      ...(env.nodeId ? { NODE_ID: env.nodeId } : {}),
      ...(env.shardMap ? { SHARD_MAP: env.shardMap } : {}),
      MISSED_DELIVERY_SWEEP_MS: String(env.sweepMs ?? 500),
    },
    env.port,
  );
  await waitForNodes(node, 1);
  return node;
}

/** `cluster.ts`: `nodes` workers sharing one port; resolves once each worker answered. */
export async function startCluster(env: NodeEnv & { nodes: number }): Promise<NodeProcess> {
  const primary = launch(
    "src/cluster.ts",
    {
      MESSENGER_DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      MESSENGER_NODES: String(env.nodes),
      MISSED_DELIVERY_SWEEP_MS: String(env.sweepMs ?? 500),
    },
    env.port,
  );
  await waitForNodes(primary, env.nodes);
  return primary;
}
