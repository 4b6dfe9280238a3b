/** Secrets generated once per database and kept (`service_secrets`). */
import { randomBytes } from "node:crypto";
import type postgres from "postgres";

/**
 * The secret called `name`, created on first use. Concurrent first starts agree:
 * every node inserts its candidate, one insert wins, all read the winner.
 */
export async function serviceSecret(sql: postgres.Sql, name: string, bytes = 32): Promise<Buffer> {
  await sql`insert into service_secrets (name, value) values (${name}, ${randomBytes(bytes)}) on conflict (name) do nothing`;
  const [row] = await sql<{ value: Buffer }[]>`select value from service_secrets where name = ${name}`;
  return row!.value;
}

/** Keys the noise of audience size estimates (audiences/estimate.ts). */
export const ESTIMATE_KEY_SECRET = "audience-estimate-key";
