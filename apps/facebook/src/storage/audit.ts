/** The audit log: one row per use of a WhatsApp-derived datum. */
import { drizzleOn } from "@handshake/db/client";
import { sharedData } from "@handshake/db/facebook-schema";
import { and, eq } from "drizzle-orm";
import type postgres from "postgres";

export type Feature = "link" | "suggestion" | "audience-match" | "ad" | "device-target" | "spam-check" | "metrics-view";

export interface Use {
  whatsappAccountId: string;
  datum: string;
  purpose: string;
  feature: Feature;
  at: Date;
}

/** One statement per batch, whatever its size: `unnest` of one array per column (ingest's hot path). */
export async function recordUses(sql: postgres.Sql | postgres.TransactionSql, uses: Use[]): Promise<void> {
  if (uses.length === 0) return;
  await sql`
    insert into audit_log (whatsapp_account_id, datum, purpose, feature, at)
    select * from unnest(${sql.array(uses.map((u) => u.whatsappAccountId))}::uuid[], ${sql.array(uses.map((u) => u.datum))}::text[],
                         ${sql.array(uses.map((u) => u.purpose))}::text[], ${sql.array(uses.map((u) => u.feature))}::text[],
                         ${sql.array(uses.map((u) => u.at))}::timestamptz[])`;
}

/** The purposes a datum may serve for an account now, as last shared (empty when not held). */
export async function purposesOf(sql: postgres.Sql | postgres.TransactionSql, whatsappAccountId: string, field: string) {
  const [row] = await drizzleOn(sql)
    .select({ purposes: sharedData.purposes, value: sharedData.value })
    .from(sharedData)
    .where(and(eq(sharedData.whatsappAccountId, whatsappAccountId), eq(sharedData.field, field)));
  return row ?? null;
}
