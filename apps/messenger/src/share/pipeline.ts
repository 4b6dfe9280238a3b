/**
 * The share pipeline, messenger side: decides *when* a share event is written
 * (account created, consent changed, usage counters moved, regime switched) and
 * writes it in the same transaction as the change. `ShareShipper` sends them.
 */
import type { ConsentState, RegimeInput } from "@handshake/consent";
import { drizzleOn } from "@handshake/db/client";
import { consentEvents } from "@handshake/db/messenger-schema";
import { and, asc, eq, gt } from "drizzle-orm";
import type postgres from "postgres";
import type { Logger } from "../log";
import type { AccountFacts, ConsentStore } from "../storage/consent";
import type { RegimeHistory } from "../storage/regimes";
import { enqueueSnapshots } from "./outbox";
import type { ShareShipper } from "./shipper";
import type { TransactionSession } from "@handshake/db/pipelined-transaction";

/** A usage event is written on an account's first message of a simulated day and when the day's count crosses these. */
export const USAGE_MILESTONES = [100, 1_000, 10_000] as const;

export class SharePipeline {
  constructor(
    private readonly sql: postgres.Sql,
    private readonly consent: ConsentStore,
    private readonly regime: RegimeHistory,
    private readonly logger: Logger,
    readonly shipper: ShareShipper | null,
  ) {
    consent.afterShareChange = (tx, accountId, state, at) => this.onConsentChange(tx, accountId, state, at);
  }

  /** The regime in force, read once the sequences are claimed (a switch records it before claiming any). */
  private readonly currentRegime = () => this.regime.current;

  /** A new account has no consent history: its state follows from its facts. */
  async onAccountCreated(tx: postgres.TransactionSql, account: AccountFacts, at: Date): Promise<void> {
    const state = this.consent.initialState(account);
    await enqueueSnapshots(tx, "account", [account.id], at, async () => new Map([[account.id, state]]), this.currentRegime);
  }

  /**
   * Inside `ConsentStore.record`'s transaction, which holds the account's row lock:
   * `state` is the newest consent there is, so it is used as it is.
   */
  async onConsentChange(tx: postgres.TransactionSql, accountId: string, state: ConsentState, at: Date): Promise<void> {
    await enqueueSnapshots(tx, "consent", [accountId], at, async () => new Map([[accountId, state]]), this.currentRegime);
  }

  /**
   * Inside the queue writer's transaction: counts the batch's messages per sender
   * (counts only) and writes a usage event where the sender's simulated day started
   * or its count crossed a milestone. The snapshot's consent is read from the
   * database after the sequence is claimed, never from the cache.
   */
  async onMessagesStored(tx: TransactionSession, perSender: Map<string, number>, at: Date): Promise<void> {
    if (perSender.size === 0) return;
    // Sorted: concurrent writers lock usage rows in the same order.
    const senders = [...perSender.keys()].sort();
    const counts = senders.map((id) => perSender.get(id) ?? 0);
    const day = at.toISOString().slice(0, 10);
    // The day's count after this statement tells what it was before: the upsert
    // either starts the day at n (insert, or a new day) or adds n to today's count.
    // (A CTE reading the rows first would not see rows the same statement inserts.)
    // Raw: one `unnest` upsert per batch on the message hot path.
    const rows = await tx<{ account_id: string; today: number }[]>`
      insert into usage_counters (account_id, messages_total, active_days, day, messages_today, last_seen_at)
      select sender, n, 1, ${day}::date, n, ${at}
      from unnest(${tx.array(senders)}::uuid[], ${tx.array(counts)}::int4[]) as u(sender, n)
      on conflict (account_id) do update set
        messages_total = usage_counters.messages_total + excluded.messages_total,
        active_days = usage_counters.active_days + (case when usage_counters.day = excluded.day then 0 else 1 end),
        messages_today = case when usage_counters.day = excluded.day
                              then usage_counters.messages_today + excluded.messages_today
                              else excluded.messages_today end,
        day = excluded.day,
        last_seen_at = excluded.last_seen_at
      returning account_id, messages_today as today`;
    const due = rows.filter((r) => usageEventDue(r.today - (perSender.get(r.account_id) ?? 0), r.today)).map((r) => r.account_id);
    if (due.length === 0) return;
    await enqueueSnapshots(tx, "usage", due, at, (locked, ids) => this.consent.readStates(locked, ids), this.currentRegime);
  }

  /**
   * Switches the consent regime from `at` on: records it, then writes a fresh
   * snapshot for every account that accepted the 2016 terms, so Facebook widens or
   * (withdrawal) deletes what it holds. Returns the number of events written.
   */
  async switchRegime(regime: RegimeInput, at: Date): Promise<number> {
    await this.regime.record(this.sql, regime, at);
    let written = 0;
    let after = "00000000-0000-0000-0000-000000000000";
    for (;;) {
      const page = await drizzleOn(this.sql)
        .selectDistinct({ account_id: consentEvents.accountId })
        .from(consentEvents)
        .where(and(eq(consentEvents.kind, "terms-accepted"), eq(consentEvents.policyVersion, "2016-08-25"), gt(consentEvents.accountId, after)))
        .orderBy(asc(consentEvents.accountId))
        .limit(2000);
      if (page.length === 0) break;
      after = page[page.length - 1]!.account_id;
      written += await this.sql.begin((tx) =>
        enqueueSnapshots(
          tx,
          "regime",
          page.map((r) => r.account_id),
          at,
          (locked, ids) => this.consent.readStates(locked, ids),
          () => regime,
        ),
      );
    }
    this.logger.info({ regime, events: written }, "consent regime switched");
    return written;
  }
}

/**
 * Whether a sender's day count going from `before` to `after` writes a usage event:
 * the day's first message (`before` is 0), or a milestone crossed.
 */
export function usageEventDue(before: number, after: number): boolean {
  if (before <= 0) return after > 0;
  return USAGE_MILESTONES.some((m) => before < m && after >= m);
}
