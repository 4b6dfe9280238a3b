/**
 * Usage counters: messages per sender, in total and per simulated day (`usage_counters`).
 * The share pipeline turns a sender's day starting, or its count crossing a milestone,
 * into a usage event for Facebook (`share/pipeline.ts`).
 *
 * The queue writer on the home database counts inside its insert statement
 * (`usageUpsertOver`), so counting costs no round trip of its own; other shard
 * databases count afterwards on home (`recordUsage`).
 */
import type { TransactionSession } from "@handshake/db/pipelined-transaction";

/** A sender's messages today before and after one batch. */
export interface UsageCount {
  accountId: string;
  before: number;
  after: number;
}

/**
 * The upsert, as the body of a CTE over `source`: a relation of stored messages with a
 * `sender_account_id` each (a CTE name in the same statement). Returns `account_id` and
 * `today`, the day's count after it; the caller knows how many it added.
 */
export function usageUpsertOver(tx: TransactionSession, source: string, at: Date) {
  if (!/^[a-z_]+$/.test(source)) throw new Error(`not a CTE name: ${source}`);
  return upsert(tx, tx`(select sender_account_id as sender, count(*)::int4 as n from ${tx.unsafe(source)} group by 1) as per_sender`, at);
}

/** The same upsert from counts in hand (a batch stored on another shard database). */
export async function recordUsage(tx: TransactionSession, perSender: Map<string, number>, at: Date): Promise<UsageCount[]> {
  if (perSender.size === 0) return [];
  const senders = [...perSender.keys()];
  const counts = senders.map((id) => perSender.get(id) ?? 0);
  const rows = await upsert(tx, tx`unnest(${tx.array(senders)}::uuid[], ${tx.array(counts)}::int4[]) as per_sender(sender, n)`, at);
  return rows.map((row) => usageCount(row.account_id, row.today, perSender.get(row.account_id) ?? 0));
}

/**
 * Adds each row of `perSender` (`sender`, `n`) to the sender's counters. Senders in id
 * order, so two statements lock the counter rows in the same order.
 */
function upsert(tx: TransactionSession, perSender: ReturnType<TransactionSession>, at: Date) {
  return tx<{ account_id: string; today: number }[]>`
    insert into usage_counters (account_id, messages_total, active_days, day, messages_today, last_seen_at)
    select sender, n, 1, ${at.toISOString().slice(0, 10)}::date, n, ${at}
    from ${perSender}
    order by sender
    on conflict (account_id) do update set
      messages_total = usage_counters.messages_total + excluded.messages_total,
      active_days = usage_counters.active_days + (case when usage_counters.day = excluded.day then 0 else 1 end),
      messages_today = case when usage_counters.day = excluded.day
                            then usage_counters.messages_today + excluded.messages_today
                            else excluded.messages_today end,
      day = excluded.day,
      last_seen_at = excluded.last_seen_at
    returning account_id, messages_today as today`;
}

/** `after` is the day's count after adding `added`: the upsert either started the day at it or added to today's. */
export function usageCount(accountId: string, after: number, added: number): UsageCount {
  return { accountId, before: after - added, after };
}
