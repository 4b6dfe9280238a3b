/**
 * Applies the committed drizzle-kit migrations at start-up, on a dedicated
 * single connection, under an advisory lock so several processes starting at
 * once (two messenger nodes, parallel tests) do not race.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";

const here = path.dirname(fileURLToPath(import.meta.url));
export const migrationsFolders = {
  messenger: path.resolve(here, "../drizzle/messenger"),
  facebook: path.resolve(here, "../drizzle/facebook"),
} as const;

export type MigratedDatabase = keyof typeof migrationsFolders;

export async function migrateDatabase(url: string, which: MigratedDatabase): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(hashtext(${`handshake-migrate-${which}`}))`;
    await migrate(drizzle({ client }), { migrationsFolder: migrationsFolders[which] });
  } finally {
    await client.end({ timeout: 5 });
  }
}
