/** Accounts and devices: registration and credential lookup. */
import { and, eq } from "drizzle-orm";
import type postgres from "postgres";
import type { MessengerDatabase } from "@handshake/db/client";
import { accounts, devices } from "@handshake/db/messenger-schema";
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
 * `credentialHash` is computed by the caller once the account id is known.
 */
export async function createAccount(
  db: MessengerDatabase,
  account: NewAccount,
  credentialHashFor: (identity: DeviceAddress) => Buffer,
): Promise<{ accountId: string; deviceId: number }> {
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(accounts)
      .values({
        phoneNumber: account.phoneNumber,
        country: account.country,
        shard: account.shard,
        kind: account.kind,
        displayName: account.displayName,
        createdAt: account.createdAt,
      })
      .onConflictDoNothing({ target: accounts.phoneNumber })
      .returning({ id: accounts.id });
    const row = inserted[0];
    if (!row) throw new PhoneNumberTaken();
    const identity = { accountId: row.id, deviceId: 1 };
    await tx.insert(devices).values({
      accountId: row.id,
      deviceId: 1,
      credentialHash: credentialHashFor(identity),
      os: account.device.os,
      osVersion: account.device.osVersion,
      appVersion: account.device.appVersion,
      model: account.device.model,
      createdAt: account.createdAt,
    });
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
