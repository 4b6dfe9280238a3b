/** The audit log: one row per use of a WhatsApp-derived datum. */
import type postgres from "postgres";

export type Feature = "link" | "suggestion" | "audience-match" | "ad" | "device-target" | "spam-check" | "metrics-view";

export interface Use {
  whatsappAccountId: string;
  datum: string;
  purpose: string;
  feature: Feature;
  at: Date;
}

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
  const [row] = await sql<{ purposes: string[]; value: unknown }[]>`
    select purposes, value from shared_data where whatsapp_account_id = ${whatsappAccountId} and field = ${field}`;
  return row ?? null;
}
