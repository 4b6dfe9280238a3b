/**
 * The share outbox: events are inserted in the same transaction as the change
 * they describe, so a committed change always has its event and a rolled-back
 * one never does. The same transaction notifies `share_outbox`: PostgreSQL
 * delivers a NOTIFY only on commit, so the shipper wakes exactly when there is
 * something to read (on any node).
 *
 * Ordering: every snapshot of an account takes the next number from its
 * `share_sequences` row first, and holds that row's lock until commit. Its
 * consent state is read *after* that, so a snapshot with a larger sequence was
 * always built from state at least as new as every smaller one. Facebook applies
 * per account the largest sequence it has seen (its watermark), never by arrival
 * or outbox id.
 */
import { shareableFields, type ConsentState, type RegimeInput } from "@handshake/consent";
import type { TransactionSession } from "@handshake/db/pipelined-transaction";
import { loadShareFacts, snapshotFields } from "./snapshot";

/** Notified (on commit) whenever events were written. */
export const SHARE_OUTBOX_CHANNEL = "share_outbox";

export type ShareEventKind = "account" | "consent" | "usage" | "regime";

/** Reads consent states inside the transaction, after the accounts' sequences are claimed. */
export type StateReader = (tx: TransactionSession, accountIds: string[]) => Promise<Map<string, ConsentState>>;

/**
 * Takes the next snapshot sequence of each account, locking its `share_sequences`
 * row until the transaction ends (accounts in id order, so two batches never
 * deadlock on each other).
 */
export async function claimSequences(tx: TransactionSession, accountIds: string[]): Promise<Map<string, number>> {
  if (accountIds.length === 0) return new Map();
  const sorted = [...new Set(accountIds)].sort();
  // `execute()`: queued on the transaction's connection now, ahead of whatever the
  // caller issues next (enqueueSnapshots pipelines its consent reads behind it).
  const rows = await tx<{ account_id: string; sequence: string }[]>`
    insert into share_sequences (account_id, sequence)
    select id, 1 from unnest(${tx.array(sorted)}::uuid[]) as t(id)
    on conflict (account_id) do update set sequence = share_sequences.sequence + 1
    returning account_id, sequence`.execute();
  return new Map(rows.map((r) => [r.account_id, Number(r.sequence)]));
}

/**
 * The instant a snapshot describes: the change's time, but never before the
 * latest choice in the state. A batch stamped a moment before an opt-out it only
 * saw once it held the lock must be judged after that opt-out, not before it.
 */
export function snapshotTime(state: ConsentState, at: Date): Date {
  const times = [at.getTime(), state.terms?.acceptedAt.getTime() ?? 0, state.share?.madeAt.getTime() ?? 0];
  return new Date(Math.max(...times));
}

/**
 * Writes a snapshot event per account: claims the accounts' sequences, then reads
 * their consent state with `readStates` (inside the lock), then their facts. An
 * empty snapshot is written only when the account shared something before (so
 * Facebook deletes it); an account that never shared anything gets no event.
 * Returns the number of events written.
 */
export async function enqueueSnapshots(
  tx: TransactionSession,
  kind: ShareEventKind,
  accountIds: string[],
  at: Date,
  readStates: StateReader,
  regime: () => RegimeInput,
): Promise<number> {
  if (accountIds.length === 0) return 0;
  const ids = [...new Set(accountIds)];
  // One round trip for all the reads: the claim is queued first, and PostgreSQL runs a
  // transaction's statements in the order they arrive, so the consent read still sees
  // the state after the sequences are locked (what the ordering above rests on); the
  // facts and the "shared before" check are read for every account, used for some.
  // (This runs inside the queue writer's lock on the message path: each round trip
  // here was one more for every sender waiting on that lock.)
  const [sequences, states, facts, sharedBefore] = await Promise.all([
    claimSequences(tx, ids),
    readStates(tx, ids),
    loadShareFacts(tx, ids),
    tx<{ account_id: string }[]>`select distinct account_id from share_outbox where account_id = any(${tx.array(ids)}::uuid[])`.then(
      (rows) => new Set(rows.map((r) => r.account_id)),
    ),
  ]);
  const current = regime();
  // What may be shared depends on consent alone; facts are read only to fill in values.
  const decided = [...states].filter(([accountId]) => sequences.has(accountId)).map(([accountId, state]) => {
    const time = snapshotTime(state, at);
    return { accountId, time, allowed: shareableFields(state, time, current) };
  });
  const sharing = decided.filter((d) => Object.keys(d.allowed).length > 0);
  const empties = decided.filter((d) => Object.keys(d.allowed).length === 0);

  const rows: { accountId: string; time: Date; payload: object }[] = [];
  for (const d of sharing) {
    const accountFacts = facts.get(d.accountId);
    if (accountFacts) rows.push({ accountId: d.accountId, time: d.time, payload: { fields: snapshotFields(accountFacts, d.allowed) } });
  }
  for (const d of empties) if (sharedBefore.has(d.accountId)) rows.push({ accountId: d.accountId, time: d.time, payload: { fields: {} } });
  if (rows.length === 0) return 0;
  await Promise.all([
    tx`
      insert into share_outbox (account_id, sequence, kind, occurred_at, payload)
      select account_id, sequence, ${kind}, occurred_at, payload
      from unnest(${tx.array(rows.map((r) => r.accountId))}::uuid[],
                  ${tx.array(rows.map((r) => sequences.get(r.accountId)!))}::int8[],
                  ${tx.array(rows.map((r) => r.time))}::timestamptz[],
                  ${tx.array(rows.map((r) => JSON.stringify(r.payload)))}::jsonb[]) as t(account_id, sequence, occurred_at, payload)`.execute(),
    tx`select pg_notify(${SHARE_OUTBOX_CHANNEL}, '')`.execute(),
  ]);
  return rows.length;
}
