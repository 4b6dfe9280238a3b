/**
 * Applies the committed drizzle-kit migrations at start-up, on a dedicated
 * single connection, under an advisory lock so several processes starting at
 * once (two messenger nodes, parallel tests) do not race. While the server is
 * unreachable it retries with backoff (see connect-retry.ts): drizzle applies the
 * pending migrations in one transaction, so a retry after a lost connection starts
 * clean.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { retryWhileUnreachable, type ConnectRetryOptions } from "./connect-retry";

const here = path.dirname(fileURLToPath(import.meta.url));
export const migrationsFolders = {
  messenger: path.resolve(here, "../drizzle/messenger"),
  facebook: path.resolve(here, "../drizzle/facebook"),
} as const;

export type MigratedDatabase = keyof typeof migrationsFolders;

/**
 * Migrates `url` to the newest committed migration. An unreachable server is retried
 * for 5 s by default (a blip, or PostgreSQL restarting): services wait for their
 * database longer before this (resolveDatabase), and tools like the seeder should fail
 * soon with a clear error. Pass `retry` to wait differently.
 */
export async function migrateDatabase(url: string, which: MigratedDatabase, retry: ConnectRetryOptions = {}): Promise<void> {
  await retryWhileUnreachable(
    `migrate ${which}`,
    url,
    async () => {
      const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
      try {
        await client`select pg_advisory_lock(hashtext(${`handshake-migrate-${which}`}))`;
        await migrate(drizzle({ client }), { migrationsFolder: migrationsFolders[which] });
      } finally {
        await client.end({ timeout: 5 });
      }
    },
    { giveUpAfterMs: 5_000, ...retry },
  );
}
