/**
 * Vitest global setup: one real PostgreSQL server for the whole run.
 * DATABASE_URL (any database on the server; tests create their own) wins;
 * otherwise an embedded PostgreSQL is started in a throwaway temp folder.
 * Each test file then creates a fresh database (see @handshake/db/testing).
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "@handshake/db/embedded";

import "@handshake/db/testing";

export default async function setup(project: TestProject) {
  const external = process.env.DATABASE_URL;
  if (external) {
    project.provide("postgresAdminUrl", external);
    return;
  }
  // Under the system temp folder, not the checkout: when tests run as root,
  // PostgreSQL runs as a `postgres` user that may not be able to enter the clone.
  const scratch = await mkdtemp(path.join(tmpdir(), "handshake-test-"));
  await chmod(scratch, 0o755);
  const dataDir = path.join(scratch, "pg");
  const pg = await startEmbeddedPostgres({ dataDir, ephemeral: true });
  project.provide("postgresAdminUrl", pg.url);
  return async () => {
    await pg.stop();
    await rm(path.dirname(dataDir), { recursive: true, force: true });
  };
}
