/**
 * Applies share events from WhatsApp. Idempotent by event id; an event older
 * (by sequence) than what is held for the account changes nothing. Each applied
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

  // Skip accounts for which a newer snapshot is already held.
  const accounts = [...latest.keys()];
  const held = await tx<{ whatsapp_account_id: string; sequence: string }[]>`
    select whatsapp_account_id, max(sequence) as sequence from shared_data
    where whatsapp_account_id = any(${tx.array(accounts)}::uuid[]) group by whatsapp_account_id`;
  for (const row of held) {
    const event = latest.get(row.whatsapp_account_id);
    if (event && Number(row.sequence) > event.sequence) latest.delete(row.whatsapp_account_id);
  }
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
