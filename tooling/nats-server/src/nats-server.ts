/**
 * Starts Debian's `nats-server` (apt-get install nats-server) as a child process
 * on 127.0.0.1: for tests, benchmarks and `pnpm dev --nodes N`. Core NATS only
 * (no JetStream, nothing on disk). Stopped or killed by its pid, never by name.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";

const CANDIDATES = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"];

export interface RunningNatsServer {
  /** e.g. nats://127.0.0.1:43769 */
  url: string;
  port: number;
  pid: number;
  /** Every line the server logged (for tests that look at what happened). */
  log: string[];
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  stop(): Promise<void>;
  /** SIGKILL (a crash): resolves when the process is gone. */
  kill(): Promise<void>;
}

export interface NatsServerOptions {
  /** 0 (default) lets the server pick a free port. */
  port?: number;
  /** Largest message in bytes (nats-server default: 1 MiB). */
  maxPayload?: number;
  /** Where the binary is; defaults to Debian's path. */
  binary?: string;
  /** Receives each log line as it arrives. */
  onLine?: (line: string) => void;
}

/** The nats-server binary, or a readable error saying how to install it. */
export function natsServerBinary(): string {
  const found = CANDIDATES.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new Error("nats-server is not installed: run `apt-get install -y nats-server` (Debian's package; .ci/run does this)");
  }
  return found;
}

export async function startNatsServer(options: NatsServerOptions = {}): Promise<RunningNatsServer> {
  const binary = options.binary ?? natsServerBinary();
  // -p -1 asks the server for a random free port; it logs the one it took.
  const args = ["-a", "127.0.0.1", "-p", String(options.port && options.port > 0 ? options.port : -1), "--no_advertise"];
  if (options.maxPayload) args.push("--max_payload", String(options.maxPayload));
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  const log: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nats-server did not start within 10 s:\n${log.join("\n")}`)), 10_000);
    const onLine = (line: string) => {
      log.push(line);
      options.onLine?.(line);
      const match = line.match(/Listening for client connections on [^:]+:(\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on("line", onLine);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`nats-server exited (${code}) during start-up:\n${log.join("\n")}`));
    });
  });
  const gone = exited(child);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
      child.kill("SIGTERM");
      await gone;
      clearTimeout(force);
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await gone;
    },
  };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}
