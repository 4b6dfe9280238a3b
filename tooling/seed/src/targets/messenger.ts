/**
 * Seeds the messenger's database: accounts, device 1 with its credential hash, and
 * the shared key set (signed prekey, last-resort Kyber prekey, one-time prekeys).
 *
 * Per batch, in one transaction: COPY the users into a temp table (the only data
 * that crosses the wire), then one statement of chained data-modifying CTEs inserts
 * the accounts `on conflict do nothing` and derives the devices and key rows from
 * the accounts it actually inserted. So a second run adds nothing, an account whose
 * phone was registered by someone else is skipped with everything that hangs off
 * it, and keys a device consumed or replaced since are never topped up behind its
 * back. The foreign keys are checked at the end of the statement, once every CTE
 * has run.
 */
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type postgres from "postgres";
import { rawClient } from "@handshake/db/client";
import { migrateDatabase } from "@handshake/db/migrate";
import { copyBytea, copyText } from "../copy-text";
import { credentialHash } from "../identity";
import { type SeedKeySet, generateKeySet } from "../key-set";
import type { SeedUser } from "../sample";
import type { SeedTarget, TableCounts } from "./target";

export interface MessengerTargetOptions {
  databaseUrl: string;
  /** One-time EC prekeys per device. */
  prekeys: number;
  /** Connections (batches in flight). */
  concurrency: number;
  /** Reuse a key set (tests, benchmarks); generated in `prepare` otherwise. */
  keySet?: SeedKeySet;
}

export const MESSENGER_TABLES = ["accounts", "devices", "signed_prekeys", "kyber_prekeys", "one_time_prekeys"] as const;

/** Kinds of business a seeded business account's display name is drawn from. */
const BUSINESS_KINDS = ["Shop", "Travel", "Pharmacy", "Bank", "Airlines", "Telecom", "Foods", "Clinic"];

/** The name recipients see for a business account. */
export function businessDisplayName(user: SeedUser["user"]): string {
  return `${user.name} ${BUSINESS_KINDS[user.id % BUSINESS_KINDS.length]}`;
}

/** One COPY line of the staging table (column order of `STAGING_COLUMNS`). */
function stagingLine(u: SeedUser): string {
  const { user } = u;
  const business = user.business;
  const at = new Date(user.registeredAt).toISOString();
  return [
    u.accountId,
    copyText(user.phone),
    user.country,
    String(user.shard),
    business ? "business" : "personal",
    business ? copyText(businessDisplayName(user)) : "\\N",
    at,
    copyBytea(credentialHash(u.secret)),
    user.os,
    copyText(user.osVersion),
    copyText(user.appVersion),
    copyText(user.deviceModel),
  ].join("\t");
}

const STAGING_COLUMNS = `(
  id uuid, phone_number text, country text, shard int4, kind text, display_name text, created_at timestamptz,
  credential_hash bytea, os text, os_version text, app_version text, model text)`;

/** Lines grouped into chunks of ~256 KB for the COPY stream. */
function* copyChunks(batch: readonly SeedUser[]): Generator<string> {
  let chunk = "";
  for (const u of batch) {
    chunk += stagingLine(u) + "\n";
    if (chunk.length >= 262_144) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk) yield chunk;
}

/** The messenger target over a postgres.js pool of `concurrency` connections. */
export function messengerTarget(options: MessengerTargetOptions): SeedTarget {
  let sql: postgres.Sql | null = null;
  let keys: SeedKeySet | null = options.keySet ?? null;
  const spent = { copy: 0, insert: 0 };

  const seedBatch = async (batch: readonly SeedUser[]): Promise<TableCounts> => {
    if (!sql || !keys) throw new Error("messenger target used before prepare()");
    const k = keys;
    const [row] = await sql.begin(async (tx) => {
      const t0 = performance.now();
      await tx.unsafe(`create temp table seed_staging ${STAGING_COLUMNS} on commit drop`);
      const writable = await tx`copy seed_staging from stdin`.writable();
      await pipeline(Readable.from(copyChunks(batch)), writable);
      const t1 = performance.now();
      spent.copy += (t1 - t0) / 1000;
      const inserted = await tx<{ accounts: number; devices: number; signed: number; kyber: number; one_time: number }[]>`
        with a as (
          insert into accounts (id, phone_number, country, shard, kind, display_name, created_at)
          select id, phone_number, country, shard, kind, display_name, created_at from seed_staging
          on conflict do nothing
          returning id),
        d as (
          insert into devices (account_id, device_id, credential_hash, os, os_version, app_version, model,
                               registration_id, identity_key, created_at)
          select s.id, 1, s.credential_hash, s.os, s.os_version, s.app_version, s.model,
                 ${k.registrationId}, ${k.identityKey}, s.created_at
          from seed_staging s join a on a.id = s.id
          returning account_id),
        sp as (
          insert into signed_prekeys (account_id, device_id, key_id, public_key, signature)
          select account_id, 1, ${k.signedPreKey.keyId}, ${k.signedPreKey.publicKey}, ${k.signedPreKey.signature} from d
          returning 1),
        kp as (
          insert into kyber_prekeys (account_id, device_id, key_id, public_key, signature, last_resort)
          select account_id, 1, ${k.kyberPreKey.keyId}, ${k.kyberPreKey.publicKey}, ${k.kyberPreKey.signature}, true from d
          returning 1),
        op as (
          insert into one_time_prekeys (account_id, device_id, key_id, public_key)
          select d.account_id, 1, o.key_id, o.public_key
          from d cross join unnest(${tx.array(k.oneTimePreKeys.map((p) => p.keyId))}::int4[],
                                   ${tx.array(k.oneTimePreKeys.map((p) => p.publicKey))}::bytea[]) as o(key_id, public_key)
          returning 1)
        select (select count(*) from a)::int as accounts, (select count(*) from d)::int as devices,
               (select count(*) from sp)::int as signed, (select count(*) from kp)::int as kyber,
               (select count(*) from op)::int as one_time`;
      spent.insert += (performance.now() - t1) / 1000;
      return inserted;
    });
    return {
      accounts: row?.accounts ?? 0,
      devices: row?.devices ?? 0,
      signed_prekeys: row?.signed ?? 0,
      kyber_prekeys: row?.kyber ?? 0,
      one_time_prekeys: row?.one_time ?? 0,
    };
  };

  return {
    name: "messenger",
    tables: MESSENGER_TABLES,
    userTable: "accounts",
    async prepare() {
      await migrateDatabase(options.databaseUrl, "messenger");
      keys ??= await generateKeySet(options.prekeys);
      if (keys.oneTimePreKeys.length !== options.prekeys) {
        throw new Error(`the key set has ${keys.oneTimePreKeys.length} one-time prekeys, ${options.prekeys} were asked for`);
      }
      sql = rawClient(options.databaseUrl, { max: options.concurrency, applicationName: "seed" });
    },
    seedBatch,
    timings: () => ({ "copy (encode + stream)": spent.copy, "insert (indexes, FKs)": spent.insert }),
    fixtureMeta: () => ({ databaseName: decodeURIComponent(new URL(options.databaseUrl).pathname.slice(1)) }),
    async close() {
      await sql?.end({ timeout: 5 });
      sql = null;
    },
  };
}
