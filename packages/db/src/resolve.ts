/**
 * Where a service's database lives: an explicit URL, a database on the server
 * named by DATABASE_URL, or (the default) an embedded PostgreSQL under `.data/`.
 */
import path from "node:path";
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
}

export async function resolveDatabase(options: ResolveOptions): Promise<DatabaseLocation> {
  if (options.url) return { url: options.url };
  if (options.serverUrl) return { url: await ensureDatabase(options.serverUrl, options.database) };
  const embedded = await startEmbeddedPostgres({
    dataDir: path.resolve(options.dataDir),
    ...(options.port ? { port: options.port } : {}),
    ...(options.onLog ? { onLog: options.onLog } : {}),
  });
  return { url: await ensureDatabase(embedded.url, options.database), embedded };
}
