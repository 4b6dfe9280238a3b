/**
 * Test helpers: a fresh database per test file on the run's real PostgreSQL
 * server (started by tooling/test-postgres). Never a mock.
 */
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { dropDatabase, ensureDatabase } from "./embedded";

declare module "vitest" {
  export interface ProvidedContext {
    /** Admin URL of the run's PostgreSQL server (tooling/test-postgres). */
    postgresAdminUrl: string;
  }
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = "test"): Promise<TestDatabase> {
  const adminUrl = inject("postgresAdminUrl");
  if (!adminUrl) throw new Error("no PostgreSQL for tests: run through vitest with the global setup");
  const name = `${prefix}_${randomBytes(6).toString("hex")}`.toLowerCase();
  const url = await ensureDatabase(adminUrl, name);
  return { url, name, drop: () => dropDatabase(adminUrl, name) };
}
