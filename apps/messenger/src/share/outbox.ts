/**
 * The share outbox: events are inserted in the same transaction as the change
 * they describe, so a committed change always has its event and a rolled-back
 * one never does. The same transaction notifies `share_outbox`: PostgreSQL
 * delivers a NOTIFY only on commit, so the shipper wakes exactly when there is
 * something to read (on any node). It sends them in id order.
 */
import { shareableFields, type ConsentState, type RegimeInput } from "@handshake/consent";
import type postgres from "postgres";
import { loadShareFacts, snapshotFields } from "./snapshot";

/** Notified (on commit) whenever events were written. */
export const SHARE_OUTBOX_CHANNEL = "share_outbox";

export type ShareEventKind = "account" | "consent" | "usage" | "regime";

type Sql = postgres.Sql | postgres.TransactionSql;

export interface SnapshotRequest {
  accountId: string;
  state: ConsentState;
}

/**
 * Enqueues a snapshot event per account. An empty snapshot is written only when
 * the account shared something before (so Facebook deletes it); an account that
 * never shared anything gets no event. Returns the number of events written.
 */
export async function enqueueSnapshots(
  tx: Sql,
  kind: ShareEventKind,
  requests: SnapshotRequest[],
  at: Date,
  regime: RegimeInput,
): Promise<number> {
  if (requests.length === 0) return 0;
  // What may be shared depends on consent alone; facts are read only to fill in values.
  const decided = requests.map((r) => ({ accountId: r.accountId, allowed: shareableFields(r.state, at, regime) }));
  const sharing = decided.filter((d) => Object.keys(d.allowed).length > 0);
  const empties = decided.filter((d) => Object.keys(d.allowed).length === 0).map((d) => d.accountId);

  const facts = await loadShareFacts(
    tx,
    sharing.map((d) => d.accountId),
  );
  const rows: { accountId: string; payload: object }[] = [];
  for (const d of sharing) {
    const accountFacts = facts.get(d.accountId);
    if (accountFacts) rows.push({ accountId: d.accountId, payload: { fields: snapshotFields(accountFacts, d.allowed) } });
  }
  if (empties.length > 0) {
    const sharedBefore = await tx<{ account_id: string }[]>`
      select distinct account_id from share_outbox where account_id = any(${tx.array(empties)}::uuid[])`;
    for (const { account_id } of sharedBefore) rows.push({ accountId: account_id, payload: { fields: {} } });
  }
  if (rows.length === 0) return 0;
  await tx`
    insert into share_outbox (account_id, kind, occurred_at, payload)
    select account_id, ${kind}, ${at}, payload
    from unnest(${tx.array(rows.map((r) => r.accountId))}::uuid[],
                ${tx.array(rows.map((r) => JSON.stringify(r.payload)))}::jsonb[]) as t(account_id, payload)`;
  await tx`select pg_notify(${SHARE_OUTBOX_CHANNEL}, '')`;
  return rows.length;
}
