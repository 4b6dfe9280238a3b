/**
 * Where a service's database lives: an explicit URL, a database on the server
 * named by DATABASE_URL, or (the default) an embedded PostgreSQL under `.data/`.
 * Resolves only once that database answers: a server that is down or still
 * starting is retried with backoff, each attempt logged (connect-retry.ts).
 */
import path from "node:path";
import { retryWhileUnreachable, waitForDatabase, type ConnectRetryOptions } from "./connect-retry";
import { ensureDatabase, startEmbeddedPostgres, type RunningPostgres } from "./embedded";

export interface DatabaseLocation {
  url: string;
  /** Set when this call started an embedded server; stop it on shutdown. */
  embedded?: RunningPostgres;
}

export interface ResolveOptions {
  /** Explicit URL for this service's database (e.g. MESSENGER_DATABASE_URL). */
  url?: string | undefined;
  /** A server URL (DATABASE_URL); the service's database is created on it. */
  serverUrl?: string | undefined;
  /** Database name used with serverUrl or the embedded server. */
  database: string;
  /** Folder for embedded PostgreSQL's data. */
  dataDir: string;
  port?: number;
  onLog?: (line: string) => void;
  /** How to wait for an unreachable server (log, deadline). */
  retry?: ConnectRetryOptions;
}

export async function resolveDatabase(options: ResolveOptions): Promise<DatabaseLocation> {
  if (options.url) {
    await waitForDatabase(options.url, options.retry);
    return { url: options.url };
  }
  const { serverUrl } = options;
  if (serverUrl) {
    const url = await retryWhileUnreachable("create database", serverUrl, () => ensureDatabase(serverUrl, options.database), options.retry);
    return { url };
  }
  const embedded = await startEmbeddedPostgres({
    dataDir: path.resolve(options.dataDir),
    ...(options.port ? { port: options.port } : {}),
    ...(options.onLog ? { onLog: options.onLog } : {}),
  });
  return { url: await ensureDatabase(embedded.url, options.database), embedded };
}
