/**
 * The whole Handshake stack on one machine: PostgreSQL (embedded unless
 * DATABASE_URL is set) and each service as its own process, with its own
 * database. Used by `pnpm dev`, and by tools that need a running stack.
 *
 * While it runs, `.data/stack.json` says where everything is, so tools started
 * separately (`pnpm demo`, `pnpm population seed`, `pnpm audit:privacy`) can find it.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDatabase, startEmbeddedPostgres, type RunningPostgres } from "@handshake/db/embedded";
import { startNatsServer, type RunningNatsServer } from "@handshake/nats-server";
import { stackEnv } from "./env";
import { Supervisor, type SupervisorOptions } from "./supervisor";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const stackFile = path.join(repoRoot, ".data", "stack.json");

/** A service of the stack: how to start it and how to tell it is ready. */
export interface ServiceDefinition {
  name: string;
  /** Workspace folder, relative to the repo root. */
  cwd: string;
  entry: string;
  port: number;
  /** Its database on the shared server (never shared with another service). */
  database?: string;
  /** Environment variable that receives the database URL. */
  databaseEnv?: string;
  healthPath: string;
  /** What to print as "where it listens". */
  describe(port: number): string;
  /** Started only when the caller names it in `include` (throwaway stacks never want it). */
  optIn?: boolean;
  /** Extra environment, given the ports of every service (after the offset). */
  env?: (ports: Record<string, number>) => Record<string, string>;
}

export const services: ServiceDefinition[] = [
  {
    name: "messenger",
    cwd: "apps/messenger",
    entry: "src/main.ts",
    port: 4100,
    database: "handshake_messenger",
    databaseEnv: "MESSENGER_DATABASE_URL",
    healthPath: "/healthz",
    describe: (port) => `tRPC http://127.0.0.1:${port}/trpc  ·  WebSocket ws://127.0.0.1:${port}/trpc`,
    // Share events go to the Facebook side; until it is up, the shipper backs off.
    env: (ports) => ({ FACEBOOK_URL: `http://127.0.0.1:${ports.facebook}/trpc` }),
  },
  {
    name: "facebook",
    cwd: "apps/facebook",
    entry: "src/main.ts",
    port: 4200,
    database: "handshake_facebook",
    databaseEnv: "FACEBOOK_DATABASE_URL",
    healthPath: "/healthz",
    describe: (port) => `tRPC http://127.0.0.1:${port}/trpc  (its own database; ingest, audiences, ads)`,
    env: (ports) => ({ MESSENGER_URL: `http://127.0.0.1:${ports.messenger}/trpc` }),
  },
  {
    name: "web",
    cwd: "apps/web",
    entry: "server/main.ts",
    port: 5173,
    healthPath: "/healthz",
    describe: (port) => `dashboard http://127.0.0.1:${port}/  (Vite; proxies /api/messenger, /api/facebook)`,
    env: (ports) => ({ MESSENGER_PORT: String(ports.messenger), FACEBOOK_PORT: String(ports.facebook), SIMULATOR_PORT: String(ports.simulator) }),
  },
  {
    name: "simulator",
    optIn: true,
    cwd: "tooling/simulator",
    entry: "src/main.ts",
    port: 4300,
    healthPath: "/healthz",
    describe: (port) => `control http://127.0.0.1:${port}/state  (live devices acting as the seeded world; tooling/simulator)`,
    env: (ports) => ({ MESSENGER_URL: `http://127.0.0.1:${ports.messenger}/trpc`, FACEBOOK_URL: `http://127.0.0.1:${ports.facebook}/trpc` }),
  },
];

export interface StackInfo {
  pid: number;
  /** Admin token of this stack's services (simulation clock, dashboards). Local only. */
  adminToken: string;
  postgres: { url: string; embedded: boolean };
  /** Set when several messenger nodes run (`--nodes N`). */
  nats?: { url: string; nodes: number };
  /** Set with `--shard-databases N`: the shard map file and the extra PostgreSQL servers (the first is `postgres`). */
  shards?: { map: string; databases: string[] };
  services: Record<string, { baseUrl: string; description: string; port: number; databaseUrl?: string }>;
}

export interface StackOptions {
  /** A PostgreSQL server to use instead of the embedded one. */
  databaseUrl?: string | undefined;
  /** Where embedded PostgreSQL keeps its data. */
  dataDir?: string;
  postgresPort?: number;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Port offset, to run a second stack beside the first. */
  portOffset?: number;
  /** Receives every line the services print, prefixed by their name. */
  onLine?: (service: string, line: string) => void;
  /** Receives what the supervisors did (a service exited, is restarted, was given up on). */
  onNotice?: (service: string, message: string) => void;
  /**
   * Restart policy for crashed services. Default: no restarts (a crash during
   * start-up fails startStack, as tests want); `pnpm dev` restarts with backoff.
   */
  restart?: Pick<SupervisorOptions, "maxRestarts" | "minDelayMs" | "maxDelayMs" | "stableAfterMs">;
  /** Admin token for every service; random when omitted. */
  adminToken?: string;
  /** Write .data/stack.json (the dev stack does; throwaway stacks do not). */
  announce?: boolean;
  /**
   * Messenger nodes sharing its port (`pnpm dev --nodes N`). Above 1, a nats-server
   * is started (Debian's; port 4222 + offset) and the messenger runs `cluster.ts`.
   */
  messengerNodes?: number;
  /**
   * PostgreSQL servers holding the messenger's shards (`pnpm dev --shard-databases N`).
   * Above 1, N - 1 more embedded servers start (data in `<dataDir>-shard-<i>`), and
   * a shard map splitting the shards evenly is written for the messenger (`SHARD_MAP`).
   */
  shardDatabases?: number;
  /** Opt-in services to start (`pnpm dev` names the simulator unless `--still`). */
  include?: readonly string[];
  /** Runs before a service starts, with what is up so far (`pnpm dev` seeds the world before the web). */
  beforeStart?: (service: string, info: StackInfo) => Promise<void>;
}

export interface RunningStack {
  info: StackInfo;
  /** One supervisor per service process, by service name (pid, restarts, 'gave-up'). */
  processes: Record<string, Supervisor>;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  let postgres: RunningPostgres | null = null;
  let serverUrl = options.databaseUrl;
  if (!serverUrl) {
    postgres = await startEmbeddedPostgres({
      dataDir: options.dataDir ?? path.join(repoRoot, ".data", "postgres"),
      port: options.postgresPort ?? 0,
    });
    serverUrl = postgres.url;
  }
  const nodes = options.messengerNodes ?? 1;
  let nats: RunningNatsServer | null = null;
  if (nodes > 1) {
    try {
      nats = await startNatsServer({ port: 4222 + (options.portOffset ?? 0) });
    } catch (error) {
      await postgres?.stop();
      throw error;
    }
  }
  const shardServers: RunningPostgres[] = [];
  let shardMap: { path: string; urls: string[] } | null = null;
  const stopShardServers = () => Promise.all(shardServers.map((server) => server.stop()));
  if ((options.shardDatabases ?? 1) > 1) {
    try {
      shardMap = await startShardDatabases(options, serverUrl, shardServers);
    } catch (error) {
      await stopShardServers();
      await nats?.stop();
      await postgres?.stop();
      throw error;
    }
  }
  const processes: Record<string, Supervisor> = {};
  const adminToken = options.adminToken ?? randomBytes(18).toString("base64url");
  // Shared by the two services only (ingest, spam signals); never printed.
  const serviceToken = randomBytes(24).toString("base64url");
  const ports = Object.fromEntries(services.map((s) => [s.name, s.port + (options.portOffset ?? 0)]));
  const info: StackInfo = {
    pid: process.pid,
    adminToken,
    postgres: { url: serverUrl, embedded: Boolean(postgres) },
    ...(nats ? { nats: { url: nats.url, nodes } } : {}),
    ...(shardMap ? { shards: { map: shardMap.path, databases: shardMap.urls } } : {}),
    services: {},
  };
  const stop = async () => {
    await Promise.all(Object.values(processes).map((supervisor) => supervisor.stop()));
    await nats?.stop();
    await stopShardServers();
    await postgres?.stop();
    if (options.announce) await rm(stackFile, { force: true });
  };
  try {
    for (const service of services) {
      if (service.optIn && !options.include?.includes(service.name)) continue;
      await options.beforeStart?.(service.name, info);
      const port = ports[service.name]!;
      const databaseUrl = service.database ? await ensureDatabase(serverUrl, service.database) : undefined;
      const clustered = nats && service.name === "messenger";
      const entry = clustered ? "src/cluster.ts" : service.entry;
      const supervisor = new Supervisor(
        {
          name: service.name,
          command: process.execPath,
          args: ["--import", "tsx", entry],
          cwd: path.join(repoRoot, service.cwd),
          env: {
            ...process.env,
            ...options.env,
            ...service.env?.(ports),
            PORT: String(port),
            ADMIN_TOKEN: adminToken,
            SERVICE_TOKEN: serviceToken,
            HOST: "127.0.0.1",
            ...(service.databaseEnv && databaseUrl ? { [service.databaseEnv]: databaseUrl } : {}),
            ...(clustered ? { NATS_URL: nats!.url, MESSENGER_NODES: String(nodes) } : {}),
            ...(shardMap && service.name === "messenger" ? { SHARD_MAP: shardMap.path } : {}),
          },
        },
        { maxRestarts: 0, ...options.restart, ...(options.onLine ? { onLine: options.onLine } : {}), ...(options.onNotice ? { onNotice: options.onNotice } : {}) },
      );
      processes[service.name] = supervisor;
      await waitHealthy(supervisor, `http://127.0.0.1:${port}${service.healthPath}`);
      info.services[service.name] = {
        baseUrl: `http://127.0.0.1:${port}`,
        description: service.describe(port),
        port,
        ...(databaseUrl ? { databaseUrl } : {}),
      };
    }
  } catch (error) {
    await stop();
    throw error;
  }
  if (options.announce) {
    await mkdir(path.dirname(stackFile), { recursive: true });
    await writeFile(stackFile, JSON.stringify(info, null, 2), { mode: 0o600 });
  }
  return { info, processes, stop };
}

/**
 * Starts the extra PostgreSQL servers of `--shard-databases N` and writes the
 * messenger's shard map (apps/messenger/src/shards/shard-map.ts): shards split
 * evenly, the first range and the home on the stack's own server.
 */
async function startShardDatabases(options: StackOptions, serverUrl: string, started: RunningPostgres[]) {
  const count = options.shardDatabases!;
  const shardCount = Number(options.env?.SHARD_COUNT ?? stackEnv.SHARD_COUNT);
  const baseDir = options.dataDir ?? path.join(repoRoot, ".data", "postgres");
  const urls = [await ensureDatabase(serverUrl, "handshake_messenger")];
  for (let i = 2; i <= count; i++) {
    const server = await startEmbeddedPostgres({ dataDir: `${baseDir}-shard-${i}`, port: 0 });
    started.push(server);
    urls.push(await ensureDatabase(server.url, "handshake_messenger"));
  }
  const databases = Object.fromEntries(urls.map((url, i) => [`shard-db-${i + 1}`, url]));
  const per = Math.ceil(shardCount / count);
  const ranges = urls.map((_, i) => ({ from: i * per, to: Math.min(shardCount, (i + 1) * per) - 1, database: `shard-db-${i + 1}` }));
  const mapPath = path.join(path.dirname(stackFile), `shard-map${options.portOffset ? `-${options.portOffset}` : ""}.json`);
  await mkdir(path.dirname(mapPath), { recursive: true });
  await writeFile(mapPath, JSON.stringify({ version: 1, shardCount, databases, ranges }, null, 2), { mode: 0o600 });
  return { path: mapPath, urls };
}

/** The running dev stack, if `.data/stack.json` names a live process. */
export async function findRunningStack(): Promise<StackInfo | null> {
  if (!existsSync(stackFile)) return null;
  const info = JSON.parse(await readFile(stackFile, "utf8")) as StackInfo;
  try {
    process.kill(info.pid, 0);
    return info;
  } catch {
    return null;
  }
}

/** Waits for `url` to answer 200; a supervisor that gave up (crash loop, or no restarts) fails it. */
async function waitHealthy(supervisor: Supervisor, url: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (supervisor.gaveUp) {
      const { code, signal } = supervisor.gaveUp;
      throw new Error(`${supervisor.name} exited during start-up (${signal ? `signal ${signal}` : `code ${code}`}); see its log above`);
    }
    if (supervisor.running) {
      try {
        const response = await fetch(url);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${supervisor.name} did not become healthy at ${url} within ${timeoutMs / 1000} s`);
}
