/**
 * The key directory: identity keys, signed and Kyber prekeys, one-time prekeys.
 * Public keys only; private keys never leave the device.
 */
import type postgres from "postgres";
import type { PreKeyBundle } from "@handshake/crypto/wire";
import type { DeviceAddress } from "../relay/bus";

export interface KeyUpload {
  identityKey: Buffer;
  registrationId: number;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  kyberPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  oneTimePreKeys: { keyId: number; publicKey: Buffer }[];
  oneTimeKyberPreKeys: { keyId: number; publicKey: Buffer; signature: Buffer }[];
}

/**
 * Stores an upload. A new identity key invalidates everything signed by the old
 * one, so the device's prekeys are replaced rather than merged.
 */
export async function storeKeys(sql: postgres.Sql, device: DeviceAddress, upload: KeyUpload): Promise<void> {
  const { accountId, deviceId } = device;
  await sql.begin(async (tx) => {
    const [current] = await tx<{ identity_key: Buffer | null }[]>`
      select identity_key from devices where account_id = ${accountId} and device_id = ${deviceId} for update`;
    if (current?.identity_key && !current.identity_key.equals(upload.identityKey)) {
      await tx`delete from one_time_prekeys where account_id = ${accountId} and device_id = ${deviceId}`;
      await tx`delete from kyber_prekeys where account_id = ${accountId} and device_id = ${deviceId}`;
    }
    await tx`update devices set identity_key = ${upload.identityKey}, registration_id = ${upload.registrationId}
             where account_id = ${accountId} and device_id = ${deviceId}`;
    const spk = upload.signedPreKey;
    await tx`
      insert into signed_prekeys (account_id, device_id, key_id, public_key, signature)
      values (${accountId}, ${deviceId}, ${spk.keyId}, ${spk.publicKey}, ${spk.signature})
      on conflict (account_id, device_id) do update
        set key_id = excluded.key_id, public_key = excluded.public_key, signature = excluded.signature`;
    await tx`delete from kyber_prekeys where account_id = ${accountId} and device_id = ${deviceId} and last_resort`;
    const kyber = [
      { ...upload.kyberPreKey, lastResort: true },
      ...upload.oneTimeKyberPreKeys.map((k) => ({ ...k, lastResort: false })),
    ];
    await tx`
      insert into kyber_prekeys (account_id, device_id, key_id, public_key, signature, last_resort)
      select ${accountId}, ${deviceId}, * from unnest(
        ${tx.array(kyber.map((k) => k.keyId))}::int4[], ${tx.array(kyber.map((k) => k.publicKey))}::bytea[],
        ${tx.array(kyber.map((k) => k.signature))}::bytea[], ${tx.array(kyber.map((k) => k.lastResort))}::bool[])
      on conflict (account_id, device_id, key_id) do update
        set public_key = excluded.public_key, signature = excluded.signature, last_resort = excluded.last_resort`;
    if (upload.oneTimePreKeys.length > 0) {
      const keys = upload.oneTimePreKeys;
      await tx`
        insert into one_time_prekeys (account_id, device_id, key_id, public_key)
        select ${accountId}, ${deviceId}, * from unnest(
          ${tx.array(keys.map((k) => k.keyId))}::int4[], ${tx.array(keys.map((k) => k.publicKey))}::bytea[])
        on conflict (account_id, device_id, key_id) do update set public_key = excluded.public_key`;
    }
  });
}

/**
 * Hands out a bundle for one device, consuming one one-time EC prekey and one
 * one-time Kyber prekey if any are left. `for update skip locked` makes the claim
 * atomic under concurrency: two callers never get the same key.
 * `withOneTimeKeys: false` (the target's one-time budget is spent) hands out none:
 * the bundle then has no one-time EC prekey and the last-resort Kyber key, which
 * libsignal accepts (X3DH/PQXDH without the optional one-time key).
 * Returns null when the device has not uploaded keys.
 */
export async function takeBundle(
  sql: postgres.Sql,
  device: DeviceAddress,
  options: { withOneTimeKeys?: boolean } = {},
): Promise<PreKeyBundle | null> {
  const { accountId, deviceId } = device;
  const withOneTimeKeys = options.withOneTimeKeys ?? true;
  return sql.begin(async (tx) => {
    const [head] = await tx<
      { registration_id: number; identity_key: Buffer; key_id: number; public_key: Buffer; signature: Buffer }[]
    >`
      select d.registration_id, d.identity_key, s.key_id, s.public_key, s.signature
      from devices d join signed_prekeys s on s.account_id = d.account_id and s.device_id = d.device_id
      where d.account_id = ${accountId} and d.device_id = ${deviceId} and d.identity_key is not null`;
    if (!head) return null;
    const [oneTime] = !withOneTimeKeys ? [] : await tx<{ key_id: number; public_key: Buffer }[]>`
      delete from one_time_prekeys
      where (account_id, device_id, key_id) = (
        select account_id, device_id, key_id from one_time_prekeys
        where account_id = ${accountId} and device_id = ${deviceId}
        order by key_id limit 1 for update skip locked)
      returning key_id, public_key`;
    const [kyberOneTime] = !withOneTimeKeys ? [] : await tx<{ key_id: number; public_key: Buffer; signature: Buffer }[]>`
      delete from kyber_prekeys
      where (account_id, device_id, key_id) = (
        select account_id, device_id, key_id from kyber_prekeys
        where account_id = ${accountId} and device_id = ${deviceId} and not last_resort
        order by key_id limit 1 for update skip locked)
      returning key_id, public_key, signature`;
    const kyber =
      kyberOneTime ??
      (
        await tx<{ key_id: number; public_key: Buffer; signature: Buffer }[]>`
          select key_id, public_key, signature from kyber_prekeys
          where account_id = ${accountId} and device_id = ${deviceId} and last_resort`
      )[0];
    if (!kyber) return null;
    return {
      accountId,
      deviceId,
      registrationId: head.registration_id,
      identityKey: head.identity_key.toString("base64"),
      signedPreKey: {
        keyId: head.key_id,
        publicKey: head.public_key.toString("base64"),
        signature: head.signature.toString("base64"),
      },
      kyberPreKey: {
        keyId: kyber.key_id,
        publicKey: kyber.public_key.toString("base64"),
        signature: kyber.signature.toString("base64"),
      },
      oneTimePreKey: oneTime ? { keyId: oneTime.key_id, publicKey: oneTime.public_key.toString("base64") } : null,
    };
  });
}

export async function countKeys(sql: postgres.Sql, device: DeviceAddress) {
  const [row] = await sql<{ one_time: number; kyber_one_time: number }[]>`
    select
      (select count(*)::int from one_time_prekeys where account_id = ${device.accountId} and device_id = ${device.deviceId}) as one_time,
      (select count(*)::int from kyber_prekeys where account_id = ${device.accountId} and device_id = ${device.deviceId} and not last_resort) as kyber_one_time`;
  return { oneTimePreKeys: row?.one_time ?? 0, oneTimeKyberPreKeys: row?.kyber_one_time ?? 0 };
}

/** Devices of an account that have keys (for sending to every device). */
export async function devicesWithKeys(sql: postgres.Sql, accountId: string): Promise<number[]> {
  const rows = await sql<{ device_id: number }[]>`
    select device_id from devices where account_id = ${accountId} and identity_key is not null order by device_id`;
  return rows.map((r) => r.device_id);
}
