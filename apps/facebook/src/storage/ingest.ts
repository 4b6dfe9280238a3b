/**
 * Applies share events from WhatsApp. Idempotent by event id; an event whose
 * sequence is not above the account's watermark (`ingest_watermarks`, the newest
 * sequence applied) changes nothing, even when what that newest event left is
 * nothing at all. Each applied
 * event replaces everything held about the account: a field it no longer carries
 * is deleted, and so are the link and audience memberships that relied on it.
 */
import type postgres from "postgres";
import type { ShareEvent } from "@handshake/consent";

export interface AppliedAccount {
  whatsappAccountId: string;
  fields: ShareEvent["fields"];
  sequence: number;
  occurredAt: Date;
}

export interface IngestOutcome {
  accepted: number;
  duplicates: number;
  /** The latest snapshot applied per account (stale events are skipped). */
  applied: AppliedAccount[];
}

export async function ingestEvents(tx: postgres.TransactionSql, events: ShareEvent[]): Promise<IngestOutcome> {
  const fresh = await tx<{ event_id: string }[]>`
    insert into ingested_events (event_id, whatsapp_account_id, kind, sequence, occurred_at)
    select * from unnest(${tx.array(events.map((e) => e.eventId))}::uuid[],
                         ${tx.array(events.map((e) => e.whatsappAccountId))}::uuid[],
                         ${tx.array(events.map((e) => e.kind))}::text[],
                         ${tx.array(events.map((e) => e.sequence))}::int8[],
                         ${tx.array(events.map((e) => e.occurredAt))}::timestamptz[])
    on conflict (event_id) do nothing
    returning event_id`;
  const freshIds = new Set(fresh.map((r) => r.event_id));
  const latest = new Map<string, ShareEvent>();
  for (const event of events) {
    if (!freshIds.has(event.eventId)) continue;
    const current = latest.get(event.whatsappAccountId);
    if (!current || current.sequence < event.sequence) latest.set(event.whatsappAccountId, event);
  }
  if (latest.size === 0) return { accepted: 0, duplicates: events.length, applied: [] };

  // The ordering guard: raise each account's watermark to the event's sequence, or
  // skip the event when the watermark is already at or past it. The upsert also
  // locks the watermark rows (in account order) until commit, so two ingests of one
  // account apply one after the other. The watermark outlives a withdrawal that
  // leaves nothing in shared_data.
  const candidates = [...latest.values()].sort((a, b) => (a.whatsappAccountId < b.whatsappAccountId ? -1 : 1));
  const raised = await tx<{ whatsapp_account_id: string }[]>`
    insert into ingest_watermarks as w (whatsapp_account_id, sequence, event_id)
    select * from unnest(${tx.array(candidates.map((e) => e.whatsappAccountId))}::uuid[],
                         ${tx.array(candidates.map((e) => e.sequence))}::int8[],
                         ${tx.array(candidates.map((e) => e.eventId))}::uuid[])
    on conflict (whatsapp_account_id) do update
      set sequence = excluded.sequence, event_id = excluded.event_id, applied_at = now()
      where w.sequence < excluded.sequence
    returning whatsapp_account_id`;
  const raisedIds = new Set(raised.map((r) => r.whatsapp_account_id));
  for (const account of [...latest.keys()]) if (!raisedIds.has(account)) latest.delete(account);
  if (latest.size === 0) return { accepted: fresh.length, duplicates: events.length - fresh.length, applied: [] };
  const apply = [...latest.values()];
  const applyIds = apply.map((e) => e.whatsappAccountId);
  await tx`delete from shared_data where whatsapp_account_id = any(${tx.array(applyIds)}::uuid[])`;

  const rows = apply.flatMap((event) =>
    Object.entries(event.fields).map(([field, shared]) => ({
      account: event.whatsappAccountId,
      field,
      value: JSON.stringify(shared!.value),
      purposes: `{${shared!.purposes.join(",")}}`,
      sharedAt: event.occurredAt,
      sequence: event.sequence,
    })),
  );
  if (rows.length > 0) {
    await tx`
      insert into shared_data (whatsapp_account_id, field, value, purposes, shared_at, sequence)
      select a, f, v, p::text[], s, q from unnest(${tx.array(rows.map((r) => r.account))}::uuid[], ${tx.array(rows.map((r) => r.field))}::text[],
                           ${tx.array(rows.map((r) => r.value))}::jsonb[], ${tx.array(rows.map((r) => r.purposes))}::text[],
                           ${tx.array(rows.map((r) => r.sharedAt))}::timestamptz[], ${tx.array(rows.map((r) => r.sequence))}::int8[])
        as t(a, f, v, p, s, q)`;
  }
  return {
    accepted: fresh.length,
    duplicates: events.length - fresh.length,
    applied: apply.map((e) => ({
      whatsappAccountId: e.whatsappAccountId,
      fields: e.fields,
      sequence: e.sequence,
      occurredAt: new Date(e.occurredAt),
    })),
  };
}
