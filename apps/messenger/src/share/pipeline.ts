/**
 * The share pipeline, messenger side: decides *when* a share event is written
 * (account created, consent changed, usage counters moved, regime switched) and
 * writes it in the same transaction as the change. `ShareShipper` sends them.
 */
import type { ConsentState, RegimeInput } from "@handshake/consent";
import { drizzleOn } from "@handshake/db/client";
import { consentEvents } from "@handshake/db/messenger-schema";
import type { TransactionSession } from "@handshake/db/pipelined-transaction";
import { and, asc, eq, gt } from "drizzle-orm";
import type postgres from "postgres";
import type { Logger } from "../log";
import type { AccountFacts, ConsentStore } from "../storage/consent";
import type { RegimeHistory } from "../storage/regimes";
import { recordUsage, type UsageCount } from "../storage/usage";
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
   * Counts a batch stored on another shard database (the usage counters live on home),
   * in a transaction of its own on home, then as `onUsageCounted`.
   */
  async onMessagesStored(tx: TransactionSession, perSender: Map<string, number>, at: Date): Promise<void> {
    await this.onUsageCounted(tx, await recordUsage(tx, perSender, at), at);
  }

  /**
   * Inside the transaction that counted the messages (the home queue writer's, whose
   * insert statement also counts): writes a usage event where a sender's simulated
   * day started or its count crossed a milestone. The snapshot's consent is read from
   * the database after the sequence is claimed, never from the cache. Most batches
   * write none and issue no statement.
   */
  async onUsageCounted(tx: TransactionSession, counts: UsageCount[], at: Date): Promise<void> {
    const due = counts.filter((c) => usageEventDue(c.before, c.after)).map((c) => c.accountId);
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
