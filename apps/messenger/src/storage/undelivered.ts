/**
 * Read-only questions about the envelope queue that the missed-delivery sweep
 * asks (relay/missed-delivery-sweep.ts). Both are range reads on the primary key.
 */
import { drizzleOn } from "@handshake/db/client";
import { envelopes } from "@handshake/db/messenger-schema";
import { and, asc, gt, lte, max } from "drizzle-orm";
import type postgres from "postgres";
import type { DeviceAddress } from "../relay/bus";

/** The largest envelope id committed so far ("0" for an empty queue). */
export async function newestEnvelopeId(sql: postgres.Sql): Promise<string> {
  const [row] = await drizzleOn(sql).select({ id: max(envelopes.id) }).from(envelopes);
  return String(row?.id ?? 0n);
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
    const rows = await drizzleOn(sql)
      .select({ id: envelopes.id, accountId: envelopes.recipientAccountId, deviceId: envelopes.recipientDeviceId })
      .from(envelopes)
      .where(and(gt(envelopes.id, BigInt(from)), lte(envelopes.id, BigInt(upToId))))
      .orderBy(asc(envelopes.id))
      .limit(pageSize);
    for (const row of rows) seen.set(`${row.accountId}:${row.deviceId}`, { accountId: row.accountId, deviceId: row.deviceId });
    if (rows.length < pageSize) break;
    from = String(rows.at(-1)!.id);
  }
  return [...seen.values()];
}
