/** Accounts and devices: registration and credential lookup. */
import { and, eq } from "drizzle-orm";
import type postgres from "postgres";
import type { MessengerDatabase } from "@handshake/db/client";
import { devices } from "@handshake/db/messenger-schema";
import type { DeviceAddress } from "../relay/bus";
import { mintAccountId } from "@handshake/db/messenger-shards";

export interface NewAccount {
  phoneNumber: string;
  country: string;
  shard: number;
  kind: "personal" | "business";
  displayName: string | null;
  device: { os: string; osVersion: string; appVersion: string; model: string };
  createdAt: Date;
}

export interface Registration {
  accountId: string;
  deviceId: number;
  /** The number was registered before: a new device took it over. */
  reregistered: boolean;
  /** Devices of the account that were removed (their credentials are void). */
  replacedDevices: number[];
}

/**
 * Registers a verified phone number with its primary device (id 1). A new number
 * gets a new account, its id minted with the number's shard (`shards/account-id.ts`);
 * `afterCreate` runs in the transaction that creates the account on the home
 * database (the share pipeline writes its event there).
 *
 * A number that is already registered is taken over, as WhatsApp does when the
 * number is verified on a new phone: the account (its id, consent history and
 * settings) stays; every device of it is removed with its keys and the envelopes
 * still queued for it (they were encrypted for keys that are gone), and the new
 * device becomes device 1 with a new credential. The account row lock serialises
 * concurrent registrations of one number.
 *
 * With a shard map whose shard database for the number is not home, two
 * transactions: the account, device and queue on the shard database first, then
 * the account's directory row (what consent, share and dashboards read) with
 * `afterCreate` on home. If the second fails the call fails; registering again
 * finds the account on its shard and completes the home row then.
 */
export async function registerVerifiedNumber(
  where:
    | postgres.Sql
    | {
        home: postgres.Sql;
        /** The number's shard database, where a new account is created. */
        account: postgres.Sql;
        /** The shard map's routing: where an existing account lives (`ShardDatabases.sqlFor`). */
        databaseOf: (accountId: string) => postgres.Sql;
      },
  account: NewAccount,
  credentialHashFor: (identity: DeviceAddress) => Buffer,
  afterCreate?: (
    tx: postgres.TransactionSql,
    account: { id: string; kind: NewAccount["kind"]; country: string; createdAt: Date },
  ) => Promise<void>,
): Promise<Registration> {
  const { home, account: accountSql, databaseOf } =
    typeof where === "function" ? { home: where, account: where, databaseOf: () => where } : where;
  if (home !== accountSql) {
    // The number's account may already live elsewhere than its shard database (the map
    // routes it by its id): on home under an id that carries no shard (registered before
    // the shard map, or seeded before seeded ids carried one), or on the database its id's
    // shard maps to (seeded under another shard count). That account is the number's, and
    // it is taken over where it lives. Creating another on the shard database would leave
    // two accounts for one number, the new one without a directory row (home's phone
    // index refuses it), so every later call of the new device would find no account.
    const [listed] = await home<{ id: string }[]>`select id from accounts where phone_number = ${account.phoneNumber}`;
    const lives = listed ? databaseOf(listed.id) : accountSql;
    if (lives === home) return registerVerifiedNumber(home, account, credentialHashFor, afterCreate);
    if (lives !== accountSql) return registerVerifiedNumber({ home, account: lives, databaseOf }, account, credentialHashFor, afterCreate);
  }
  const created = { id: "", kind: account.kind, country: account.country, createdAt: account.createdAt };
  const onShard = await accountSql.begin(async (tx) => {
    const [inserted] = await tx<{ id: string }[]>`
      insert into accounts (id, phone_number, country, shard, kind, display_name, created_at)
      values (${mintAccountId(account.shard)}, ${account.phoneNumber}, ${account.country}, ${account.shard}, ${account.kind},
              ${account.displayName}, ${account.createdAt})
      on conflict (phone_number) do nothing
      returning id`;
    let accountId: string;
    let replacedDevices: number[] = [];
    if (inserted) {
      accountId = inserted.id;
    } else {
      const [existing] = await tx<{ id: string }[]>`select id from accounts where phone_number = ${account.phoneNumber} for update`;
      accountId = existing!.id;
      await tx`delete from envelopes where recipient_account_id = ${accountId}`;
      const removed = await tx<{ device_id: number }[]>`delete from devices where account_id = ${accountId} returning device_id`;
      replacedDevices = removed.map((r) => r.device_id);
    }
    const identity = { accountId, deviceId: 1 };
    const d = account.device;
    await tx`
      insert into devices (account_id, device_id, credential_hash, os, os_version, app_version, model, created_at)
      values (${accountId}, 1, ${credentialHashFor(identity)}, ${d.os}, ${d.osVersion}, ${d.appVersion}, ${d.model},
              ${account.createdAt})`;
    if (inserted && home === accountSql) await afterCreate?.(tx, { ...created, id: accountId });
    return { ...identity, created: Boolean(inserted), replacedDevices };
  });
  let createdOnHome = false;
  // The number's account existed on its shard: either a registration racing this one
  // created it and is about to write home, or an earlier one failed after its shard
  // commit (an orphan). Give the creator a moment to write home first, so only the
  // orphan's case completes home here and reports a new account.
  if (home !== accountSql && !onShard.created) await homeRowWritten(home, onShard.accountId, HOME_ROW_GRACE_MS);
  if (home !== accountSql) {
    createdOnHome = await home.begin(async (tx) => {
      const [inserted] = await tx<{ id: string }[]>`
        insert into accounts (id, phone_number, country, shard, kind, display_name, created_at)
        values (${onShard.accountId}, ${account.phoneNumber}, ${account.country}, ${account.shard}, ${account.kind},
                ${account.displayName}, ${account.createdAt})
        on conflict do nothing
        returning id`;
      if (inserted) await afterCreate?.(tx, { ...created, id: onShard.accountId });
      return Boolean(inserted);
    });
  }
  return {
    accountId: onShard.accountId,
    deviceId: onShard.deviceId,
    reregistered: !onShard.created && !createdOnHome,
    replacedDevices: onShard.replacedDevices,
  };
}

/** How long a registration that found its number's account on the shard waits for the creator's home row. */
const HOME_ROW_GRACE_MS = 2_000;

/** Waits (at most `ms`) until home holds the account's directory row; returns whether it does. */
async function homeRowWritten(home: postgres.Sql, accountId: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const rows = await home`select 1 from accounts where id = ${accountId}`;
    if (rows.length > 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
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
