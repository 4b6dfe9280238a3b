/** Accounts and devices: registration and credential lookup. */
import { and, eq } from "drizzle-orm";
import type postgres from "postgres";
import type { MessengerDatabase } from "@handshake/db/client";
import { devices } from "@handshake/db/messenger-schema";
import type { DeviceAddress } from "../relay/bus";

export interface NewAccount {
  phoneNumber: string;
  country: string;
  shard: number;
  kind: "personal" | "business";
  displayName: string | null;
  device: { os: string; osVersion: string; appVersion: string; model: string };
  createdAt: Date;
}

export class PhoneNumberTaken extends Error {
  constructor() {
    super("phone number already registered");
  }
}

/**
 * Creates the account and its primary device (id 1) in one transaction.
 * `credentialHashFor` is called once the account id is known; `afterCreate`
 * runs inside the same transaction (the share pipeline writes its event there).
 */
export async function createAccount(
  sql: postgres.Sql,
  account: NewAccount,
  credentialHashFor: (identity: DeviceAddress) => Buffer,
  afterCreate?: (
    tx: postgres.TransactionSql,
    account: { id: string; kind: NewAccount["kind"]; country: string; createdAt: Date },
  ) => Promise<void>,
): Promise<{ accountId: string; deviceId: number }> {
  return sql.begin(async (tx) => {
    const [row] = await tx<{ id: string }[]>`
      insert into accounts (phone_number, country, shard, kind, display_name, created_at)
      values (${account.phoneNumber}, ${account.country}, ${account.shard}, ${account.kind}, ${account.displayName},
              ${account.createdAt})
      on conflict (phone_number) do nothing
      returning id`;
    if (!row) throw new PhoneNumberTaken();
    const identity = { accountId: row.id, deviceId: 1 };
    const d = account.device;
    await tx`
      insert into devices (account_id, device_id, credential_hash, os, os_version, app_version, model, created_at)
      values (${row.id}, 1, ${credentialHashFor(identity)}, ${d.os}, ${d.osVersion}, ${d.appVersion}, ${d.model},
              ${account.createdAt})`;
    await afterCreate?.(tx, { id: row.id, kind: account.kind, country: account.country, createdAt: account.createdAt });
    return identity;
  });
}

/** The stored credential hash of a device, or null if there is no such device. */
export async function findCredentialHash(sql: postgres.Sql, device: DeviceAddress): Promise<Buffer | null> {
  const rows = await sql<{ credential_hash: Buffer }[]>`
    select credential_hash from devices where account_id = ${device.accountId} and device_id = ${device.deviceId}`;
  return rows[0]?.credential_hash ?? null;
}

export async function deviceExists(db: MessengerDatabase, device: DeviceAddress): Promise<boolean> {
  const rows = await db
    .select({ id: devices.deviceId })
    .from(devices)
    .where(and(eq(devices.accountId, device.accountId), eq(devices.deviceId, device.deviceId)));
  return rows.length > 0;
}

export async function touchLastSeen(sql: postgres.Sql, device: DeviceAddress, at: Date): Promise<void> {
  await sql`update devices set last_seen_at = ${at}
            where account_id = ${device.accountId} and device_id = ${device.deviceId}`;
}
