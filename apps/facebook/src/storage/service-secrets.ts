/** Secrets generated once per database and kept (`service_secrets`). */
import { randomBytes } from "node:crypto";
import { drizzleOn } from "@handshake/db/client";
import { serviceSecrets } from "@handshake/db/facebook-schema";
import { eq } from "drizzle-orm";
import type postgres from "postgres";

/**
 * The secret called `name`, created on first use. Concurrent first starts agree:
 * every node inserts its candidate, one insert wins, all read the winner.
 */
export async function serviceSecret(sql: postgres.Sql, name: string, bytes = 32): Promise<Buffer> {
  const db = drizzleOn(sql);
  await db.insert(serviceSecrets).values({ name, value: randomBytes(bytes) }).onConflictDoNothing({ target: serviceSecrets.name });
  const [row] = await db.select({ value: serviceSecrets.value }).from(serviceSecrets).where(eq(serviceSecrets.name, name));
  return row!.value;
}

/** Keys the noise of audience size estimates (audiences/estimate.ts). */
export const ESTIMATE_KEY_SECRET = "audience-estimate-key";
