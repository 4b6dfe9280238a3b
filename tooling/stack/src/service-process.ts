/**
 * Starting one service of the stack as its own process, for tools that start,
 * kill and restart services one at a time (the fault suite, tooling/faults):
 * the environment it gets (the same contract as `startStack`), its output split
 * into lines, and "ready" meaning its health check answers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { ServiceDefinition } from "./stack";

export interface ServiceLaunch {
  /** The repo root (services run from their workspace folder under it). */
  root: string;
  port: number;
  /** Ports of every service, for the definitions' cross-references (FACEBOOK_URL, …). */
  ports: Record<string, number>;
  adminToken: string;
  serviceToken: string;
  /** The service's own database, given in `service.databaseEnv`. */
  databaseUrl?: string | undefined;
  /** Extra environment for the service. */
  env?: Record<string, string> | undefined;
  onLine?: ((service: string, line: string) => void) | undefined;
  healthTimeoutMs?: number;
}

/** The environment a service process gets: where it listens, its tokens, its database. */
export function serviceEnvironment(service: ServiceDefinition, launch: ServiceLaunch): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...launch.env,
    ...service.env?.(launch.ports),
    PORT: String(launch.port),
    ADMIN_TOKEN: launch.adminToken,
    SERVICE_TOKEN: launch.serviceToken,
    HOST: "127.0.0.1",
    ...(service.databaseEnv && launch.databaseUrl ? { [service.databaseEnv]: launch.databaseUrl } : {}),
  };
}

/**
 * Spawns `service` and resolves once its health check answers. When it does not
 * come up, the process is stopped and the error says why.
 */
export async function startServiceProcess(service: ServiceDefinition, launch: ServiceLaunch): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", service.entry], {
    cwd: path.join(launch.root, service.cwd),
    env: serviceEnvironment(service, launch),
    stdio: ["ignore", "pipe", "pipe"],
  });
  pipeLines(child, service.name, launch.onLine);
  try {
    await waitHealthy(child, service.name, `http://127.0.0.1:${launch.port}${service.healthPath}`, launch.healthTimeoutMs);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return child;
}

function pipeLines(child: ChildProcess, name: string, onLine: ServiceLaunch["onLine"]) {
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) onLine?.(name, line);
    });
  }
}

async function waitHealthy(child: ChildProcess, name: string, url: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited during start-up (${child.signalCode ?? `code ${child.exitCode}`}); see its log above`);
    }
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${name} did not become healthy at ${url} within ${timeoutMs / 1000} s`);
}

/** SIGTERM, then SIGKILL after 10 s; resolves when the process has exited. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
