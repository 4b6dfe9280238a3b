/**
 * Facebook's "metrics" view of WhatsApp usage: the shared usage counters
 * (messages sent, active days) and last-seen, aggregated per country. Only values
 * held for the `metrics` purpose are read: a datum shared for spam fighting alone
 * (or for nothing, under a ban) is not in the view. Each datum read is audited.
 */
import type postgres from "postgres";
import { recordUses, type Use } from "../storage/audit";

/** The usage data the view reads, each only where shared for `metrics`. */
export const USAGE_METRICS_FIELDS = ["messagesSentCount", "activeDaysCount", "lastSeen"] as const;

export interface UsageMetricsRow {
  country: string;
  /** Accounts with at least one usage datum held for `metrics`. */
  accounts: number;
  messagesSent: number;
  activeDays: number;
  /** Accounts whose last-seen (held for `metrics`) is within 24 h of `at`. */
  activeLastDay: number;
}

/** Reads the view at `at` and records one `metrics` use per datum read. */
export async function readUsageMetrics(sql: postgres.Sql, at: Date): Promise<UsageMetricsRow[]> {
  return sql.begin(async (tx) => {
    // messagesSentCount is { day, today, total }; the others are scalars.
    const held = await tx<{ whatsapp_account_id: string; field: string; value: string; country: string | null }[]>`
      select sd.whatsapp_account_id, sd.field, coalesce(sd.value ->> 'total', sd.value #>> '{}') as value,
             (select c.value #>> '{}' from shared_data c
               where c.whatsapp_account_id = sd.whatsapp_account_id and c.field = 'country' and 'metrics' = any(c.purposes)) as country
      from shared_data sd
      where sd.field = any(${tx.array([...USAGE_METRICS_FIELDS])}::text[]) and 'metrics' = any(sd.purposes)`;
    const byCountry = new Map<string, UsageMetricsRow & { ids: Set<string> }>();
    const uses: Use[] = [];
    for (const row of held) {
      const country = row.country ?? "unknown";
      const entry = byCountry.get(country) ?? { country, accounts: 0, messagesSent: 0, activeDays: 0, activeLastDay: 0, ids: new Set<string>() };
      entry.ids.add(row.whatsapp_account_id);
      if (row.field === "messagesSentCount") entry.messagesSent += Number(row.value) || 0;
      if (row.field === "activeDaysCount") entry.activeDays += Number(row.value) || 0;
      if (row.field === "lastSeen" && at.getTime() - Date.parse(row.value) <= 24 * 60 * 60 * 1000) entry.activeLastDay += 1;
      byCountry.set(country, entry);
      uses.push({ whatsappAccountId: row.whatsapp_account_id, datum: row.field, purpose: "metrics", feature: "metrics-view", at });
    }
    await recordUses(tx, uses);
    return [...byCountry.values()]
      .map(({ ids, ...rest }) => ({ ...rest, accounts: ids.size }))
      .sort((a, b) => a.country.localeCompare(b.country));
  });
}
