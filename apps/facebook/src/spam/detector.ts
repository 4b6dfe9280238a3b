/**
 * Spam signals from usage metadata: an account sending far more than people do
 * in one simulated day is throttled, and suspended past a higher mark. Uses only
 * the daily message count, and only when it was shared for `spam`; every check
 * is audited.
 */
import type postgres from "postgres";
import { recordUses, type Use } from "../storage/audit";
import type { AppliedAccount } from "../storage/ingest";

export interface SpamThresholds {
  throttlePerDay: number;
  suspendPerDay: number;
}

export interface SpamSignal {
  whatsappAccountId: string;
  action: "throttle" | "suspend";
  reason: string;
}

export async function checkForSpam(
  tx: postgres.TransactionSql,
  applied: AppliedAccount[],
  thresholds: SpamThresholds,
  at: Date,
): Promise<SpamSignal[]> {
  const uses: Use[] = [];
  const signals: SpamSignal[] = [];
  for (const account of applied) {
    const count = account.fields.messagesSentCount;
    if (!count || !count.purposes.includes("spam")) continue;
    uses.push({ whatsappAccountId: account.whatsappAccountId, datum: "messagesSentCount", purpose: "spam", feature: "spam-check", at });
    const today = count.value.today;
    if (today >= thresholds.suspendPerDay) {
      signals.push({ whatsappAccountId: account.whatsappAccountId, action: "suspend", reason: `${today} messages on ${count.value.day}` });
    } else if (today >= thresholds.throttlePerDay) {
      signals.push({ whatsappAccountId: account.whatsappAccountId, action: "throttle", reason: `${today} messages on ${count.value.day}` });
    }
  }
  await recordUses(tx, uses);
  if (signals.length > 0) {
    await tx`
      insert into spam_signals (whatsapp_account_id, action, reason, at)
      select * from unnest(${tx.array(signals.map((s) => s.whatsappAccountId))}::uuid[], ${tx.array(signals.map((s) => s.action))}::text[],
                           ${tx.array(signals.map((s) => s.reason))}::text[], ${tx.array(signals.map(() => at))}::timestamptz[])`;
  }
  return signals;
}
