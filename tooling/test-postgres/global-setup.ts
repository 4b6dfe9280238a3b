/**
 * Vitest global setup: one real PostgreSQL server for the whole run.
 * DATABASE_URL (any database on the server; tests create their own) wins;
 * otherwise an embedded PostgreSQL is started in a throwaway folder under .data/.
 * Each test file then creates a fresh database (see @handshake/db/testing).
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "@handshake/db/embedded";

import "@handshake/db/testing";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export default async function setup(project: TestProject) {
  const external = process.env.DATABASE_URL;
  if (external) {
    project.provide("postgresAdminUrl", external);
    return;
  }
  const dataDir = path.join(root, ".data", `test-postgres-${process.pid}`);
  const pg = await startEmbeddedPostgres({ dataDir, ephemeral: true });
  project.provide("postgresAdminUrl", pg.url);
  return async () => {
    await pg.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
