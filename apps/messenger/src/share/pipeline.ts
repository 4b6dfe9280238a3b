/**
 * The share pipeline, messenger side: decides *when* a share event is written
 * (account created, consent changed, usage counters moved, regime switched) and
 * writes it in the same transaction as the change. `ShareShipper` sends them.
 */
import type { ConsentState, RegimeInput } from "@handshake/consent";
import type postgres from "postgres";
import type { Logger } from "../log";
import type { AccountFacts, ConsentStore } from "../storage/consent";
import type { RegimeHistory } from "../storage/regimes";
import { enqueueSnapshots } from "./outbox";
import type { ShareShipper } from "./shipper";

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

  /** A new account has no consent history: its state follows from its facts. */
  async onAccountCreated(tx: postgres.TransactionSql, account: AccountFacts, at: Date): Promise<void> {
    const state = this.consent.initialState(account);
    await enqueueSnapshots(tx, "account", [{ accountId: account.id, state }], at, this.regime.current);
  }

  async onConsentChange(tx: postgres.TransactionSql, accountId: string, state: ConsentState, at: Date): Promise<void> {
    await enqueueSnapshots(tx, "consent", [{ accountId, state }], at, this.regime.current);
  }

  /**
   * Inside the queue writer's transaction: counts the batch's messages per sender
   * (counts only) and writes a usage event where a day started or a milestone was crossed.
   */
  async onMessagesStored(tx: postgres.TransactionSql, perSender: Map<string, number>, at: Date): Promise<void> {
    if (perSender.size === 0) return;
    const senders = [...perSender.keys()];
    const counts = senders.map((id) => perSender.get(id) ?? 0);
    const day = at.toISOString().slice(0, 10);
    const rows = await tx<{ account_id: string; before_day: string | null; before_today: number | null; today: number }[]>`
      with before as (
        select account_id, day::text as day, messages_today from usage_counters
        where account_id = any(${tx.array(senders)}::uuid[])
        for update
      ),
      upserted as (
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
        returning account_id, messages_today
      )
      select u.account_id, b.day as before_day, b.messages_today as before_today, u.messages_today as today
      from upserted u left join before b on b.account_id = u.account_id`;
    const due = rows
      .filter((r) => {
        if (r.before_day !== day) return true;
        const before = r.before_today ?? 0;
        return USAGE_MILESTONES.some((m) => before < m && r.today >= m);
      })
      .map((r) => r.account_id);
    if (due.length === 0) return;
    const states = await this.consent.getMany(due);
    const requests = due.flatMap((accountId) => {
      const state = states.get(accountId);
      return state ? [{ accountId, state }] : [];
    });
    await enqueueSnapshots(tx, "usage", requests, at, this.regime.current);
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
      const page = await this.sql<{ account_id: string }[]>`
        select distinct account_id from consent_events
        where kind = 'terms-accepted' and policy_version = '2016-08-25' and account_id > ${after}
        order by account_id limit 2000`;
      if (page.length === 0) break;
      after = page[page.length - 1]!.account_id;
      const states = await this.consent.getMany(page.map((r) => r.account_id));
      written += await this.sql.begin((tx) =>
        enqueueSnapshots(
          tx,
          "regime",
          [...states].map(([accountId, state]) => ({ accountId, state })),
          at,
          regime,
        ),
      );
    }
    this.logger.info({ regime, events: written }, "consent regime switched");
    return written;
  }
}
