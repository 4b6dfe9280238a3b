/**
 * Read-only questions about the envelope queue that the missed-delivery sweep
 * asks (relay/missed-delivery-sweep.ts). Both are range reads on the primary key.
 */
import type postgres from "postgres";
import type { DeviceAddress } from "../relay/bus";

/** The largest envelope id committed so far ("0" for an empty queue). */
export async function newestEnvelopeId(sql: postgres.Sql): Promise<string> {
  const [row] = await sql<{ id: string }[]>`select coalesce(max(id), 0)::text as id from envelopes`;
  return row!.id;
}

/**
 * Recipients of envelopes with `afterId < id <= upToId` that are still queued
 * (not yet acknowledged), read `pageSize` envelopes at a time.
 */
export async function recipientsOfQueuedBetween(
  sql: postgres.Sql,
  afterId: string,
  upToId: string,
  pageSize = 10_000,
): Promise<DeviceAddress[]> {
  const seen = new Map<string, DeviceAddress>();
  let from = afterId;
  for (;;) {
    const rows = await sql<{ id: string; account_id: string; device_id: number }[]>`
      select id::text, recipient_account_id as account_id, recipient_device_id as device_id
      from envelopes
      where id > ${from} and id <= ${upToId}
      order by id
      limit ${pageSize}`;
    for (const row of rows) seen.set(`${row.account_id}:${row.device_id}`, { accountId: row.account_id, deviceId: row.device_id });
    if (rows.length < pageSize) break;
    from = rows.at(-1)!.id;
  }
  return [...seen.values()];
}
