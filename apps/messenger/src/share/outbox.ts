/**
 * The share outbox: events are inserted in the same transaction as the change
 * they describe, so a committed change always has its event and a rolled-back
 * one never does. The shipper sends them in id order.
 */
import type { ConsentState, RegimeInput } from "@handshake/consent";
import type postgres from "postgres";
import { loadShareFacts, snapshotFields } from "./snapshot";

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
  const facts = await loadShareFacts(
    tx,
    requests.map((r) => r.accountId),
  );
  const rows: { accountId: string; payload: object; empty: boolean }[] = [];
  for (const request of requests) {
    const accountFacts = facts.get(request.accountId);
    if (!accountFacts) continue;
    const fields = snapshotFields(accountFacts, request.state, at, regime);
    rows.push({ accountId: request.accountId, payload: { fields }, empty: Object.keys(fields).length === 0 });
  }
  const empties = rows.filter((r) => r.empty).map((r) => r.accountId);
  const sharedBefore = new Set(
    empties.length === 0
      ? []
      : (
          await tx<{ account_id: string }[]>`
            select distinct account_id from share_outbox where account_id = any(${tx.array(empties)}::uuid[])`
        ).map((r) => r.account_id),
  );
  const toWrite = rows.filter((r) => !r.empty || sharedBefore.has(r.accountId));
  if (toWrite.length === 0) return 0;
  await tx`
    insert into share_outbox (account_id, kind, occurred_at, payload)
    select account_id, ${kind}, ${at}, payload
    from unnest(${tx.array(toWrite.map((r) => r.accountId))}::uuid[],
                ${tx.array(toWrite.map((r) => JSON.stringify(r.payload)))}::jsonb[]) as t(account_id, payload)`;
  return toWrite.length;
}
