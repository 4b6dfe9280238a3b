/**
 * Message counts owed to home's usage counters by the other databases of the shard map
 * (`cross-database-outbox.ts` for how an outbox is forwarded and swept).
 *
 * The usage counters, and the share events they trigger, live on home. A batch stored
 * on another database writes each sender's count into that database's `usage_outbox`
 * in the same statement (`insertSends` in `queue.ts`, "owe"). Delivering them adds them
 * on home, in one transaction with `applied_usage`, which remembers every outbox row
 * (by database and id) already added: a row delivered twice is counted once.
 */
import type postgres from "postgres";
import type { TransactionSession } from "@handshake/db/pipelined-transaction";
import type { Logger } from "../log";
import { CrossDatabaseOutbox, type OutboxOptions } from "./cross-database-outbox";
import type { OwedUsage } from "./queue";

export type UsageOutbox = CrossDatabaseOutbox<OwedUsage, UsageRow>;

interface UsageRow {
  id: string;
  sender_account_id: string;
  messages: number;
  at: Date;
}

export function usageOutbox(
  /** The database whose outbox this is, and its name in the shard map. */
  source: { name: string; sql: postgres.Sql },
  home: postgres.Sql,
  /** Adds counts to the counters (and writes the share events they call for), inside `tx` on home. */
  count: (tx: TransactionSession, perSender: Map<string, number>, at: Date) => Promise<void>,
  logger: Logger,
  options?: OutboxOptions,
): UsageOutbox {
  return new CrossDatabaseOutbox<OwedUsage, UsageRow>(
    source.sql,
    {
      table: "usage_outbox",
      what: "usage counts for home",
      fromRow: (r) => ({ outboxId: String(r.id), accountId: r.sender_account_id, messages: r.messages, at: r.at }),
      deliver: (owed) =>
        home.begin(async (tx) => {
          // In id order: two deliveries of overlapping rows wait on each other's rows in the same order.
          const ids = [...new Set(owed.map((o) => o.outboxId))].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
          const fresh = await tx<{ outbox_id: string }[]>`
            insert into applied_usage (source, outbox_id)
            select ${source.name}, id from unnest(${tx.array(ids)}::int8[]) with ordinality as t(id, n) order by n
            on conflict do nothing
            returning outbox_id`;
          const added = new Set(fresh.map((r) => String(r.outbox_id)));
          // One count per simulated time (a batch's rows share theirs).
          const byTime = new Map<number, Map<string, number>>();
          for (const row of owed) {
            if (!added.delete(row.outboxId)) continue; // counted before, or twice in this call
            const perSender = byTime.get(row.at.getTime()) ?? new Map<string, number>();
            perSender.set(row.accountId, (perSender.get(row.accountId) ?? 0) + row.messages);
            byTime.set(row.at.getTime(), perSender);
          }
          for (const [at, perSender] of [...byTime].sort((a, b) => a[0] - b[0])) await count(tx, perSender, new Date(at));
        }),
    },
    logger,
    options,
  );
}
