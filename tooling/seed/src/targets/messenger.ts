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
import { databaseOfShard, shardOfAccountId, type ShardMap } from "@handshake/db/messenger-shards";
import { migrateDatabase } from "@handshake/db/migrate";
import { copyBytea, copyText } from "../copy-text";
import { credentialHash } from "../identity";
import { type SeedKeySet, generateKeySet } from "../key-set";
import type { SeedUser } from "../sample";
import type { SeedTarget, TableCounts } from "./target";

export interface MessengerTargetOptions {
  /** The messenger's database; with a shard map, its home database (`map.databases[map.home]`). */
  databaseUrl: string;
  /**
   * The messenger's shard map (`SHARD_MAP`), if it has one: each account, its device and
   * keys go to the database of the shard its id carries, and home gets the account's
   * directory row (what consent, share and dashboards read), as registration does.
   */
  shardMap?: ShardMap | null;
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

/** The messenger's shard of a seeded account: the one its id carries (`sampleIdentity`), not the population's. */
function messengerShard(u: SeedUser): number {
  const shard = shardOfAccountId(u.accountId);
  if (shard === null) throw new Error(`seeded account id ${u.accountId} carries no shard`);
  return shard;
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
    String(messengerShard(u)),
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

/** The messenger target over a postgres.js pool of `concurrency` connections per database. */
export function messengerTarget(options: MessengerTargetOptions): SeedTarget {
  const map = options.shardMap ?? null;
  if (map && map.databases[map.home] !== options.databaseUrl) {
    throw new Error(`the shard map's home database is ${map.databases[map.home]}, not the messenger database given (${options.databaseUrl})`);
  }
  const urls = map ? new Map(Object.entries(map.databases)) : new Map([["main", options.databaseUrl]]);
  const homeName = map ? map.home : "main";
  const pools = new Map<string, postgres.Sql>();
  let keys: SeedKeySet | null = options.keySet ?? null;
  const spent = { copy: 0, insert: 0, directory: 0 };

  const databaseOf = (u: SeedUser): string => {
    if (!map) return "main";
    const shard = messengerShard(u);
    if (shard >= map.shardCount) {
      throw new Error(`account ${u.accountId} carries no shard of this map (shardCount ${map.shardCount}): seed with the map's shard count`);
    }
    return databaseOfShard(map, shard);
  };

  /** The batch's accounts, devices and keys on one database (the one their ids route to). */
  const seedOn = async (sql: postgres.Sql, batch: readonly SeedUser[]): Promise<TableCounts> => {
    if (!keys) throw new Error("messenger target used before prepare()");
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

  /**
   * Home's directory rows for the batch's accounts that are on `shard` (inserted now or by
   * an earlier run that stopped before this step: a second run completes them). A row
   * home refuses because the number belongs to another account there is an error, not a
   * skip: the account would exist without a directory row, unusable.
   */
  const writeDirectoryRows = async (home: postgres.Sql, shard: postgres.Sql, batch: readonly SeedUser[]) => {
    const t0 = performance.now();
    const rows = await shard<{ id: string; phone_number: string; country: string; shard: number; kind: string; display_name: string | null; created_at: Date }[]>`
      select id, phone_number, country, shard, kind, display_name, created_at from accounts
      where id = any(${shard.array(batch.map((u) => u.accountId))}::uuid[])`;
    if (rows.length === 0) return;
    const col = <T>(pick: (r: (typeof rows)[number]) => T) => rows.map(pick);
    await home`
      insert into accounts (id, phone_number, country, shard, kind, display_name, created_at)
      select * from unnest(${home.array(col((r) => r.id))}::uuid[], ${home.array(col((r) => r.phone_number))}::text[],
                           ${home.array(col((r) => r.country))}::text[], ${home.array(col((r) => r.shard))}::int4[],
                           ${home.array(col((r) => r.kind))}::text[], ${home.array(col((r) => r.display_name))}::text[],
                           ${home.array(col((r) => r.created_at))}::timestamptz[])
      on conflict do nothing`;
    const [listed] = await home<{ n: number }[]>`select count(*)::int as n from accounts where id = any(${home.array(col((r) => r.id))}::uuid[])`;
    if (listed!.n < rows.length) {
      throw new Error(
        `${rows.length - listed!.n} seeded accounts got no directory row on the home database: their phone numbers belong to ` +
          "other accounts there (a world seeded before account ids carried their shard?). Seed into empty databases.",
      );
    }
    spent.directory += (performance.now() - t0) / 1000;
  };

  const seedBatch = async (batch: readonly SeedUser[]): Promise<TableCounts> => {
    const home = pools.get(homeName);
    if (!home) throw new Error("messenger target used before prepare()");
    const groups = new Map<string, SeedUser[]>();
    for (const u of batch) {
      const name = databaseOf(u);
      const group = groups.get(name);
      if (group) group.push(u);
      else groups.set(name, [u]);
    }
    const added = await Promise.all(
      [...groups].map(async ([name, users]) => {
        const sql = pools.get(name)!;
        const counts = await seedOn(sql, users);
        if (name !== homeName) await writeDirectoryRows(home, sql, users);
        return counts;
      }),
    );
    const total: TableCounts = Object.fromEntries(MESSENGER_TABLES.map((t) => [t, 0]));
    for (const counts of added) for (const [table, n] of Object.entries(counts)) total[table] = (total[table] ?? 0) + n;
    return total;
  };

  return {
    name: "messenger",
    tables: MESSENGER_TABLES,
    userTable: "accounts",
    async prepare() {
      for (const url of urls.values()) await migrateDatabase(url, "messenger");
      keys ??= await generateKeySet(options.prekeys);
      if (keys.oneTimePreKeys.length !== options.prekeys) {
        throw new Error(`the key set has ${keys.oneTimePreKeys.length} one-time prekeys, ${options.prekeys} were asked for`);
      }
      for (const [name, url] of urls) pools.set(name, rawClient(url, { max: options.concurrency, applicationName: "seed" }));
    },
    seedBatch,
    timings: () => ({
      "copy (encode + stream)": spent.copy,
      "insert (indexes, FKs)": spent.insert,
      ...(map ? { "directory rows on home": spent.directory } : {}),
    }),
    fixtureMeta: () => ({
      databaseName: decodeURIComponent(new URL(options.databaseUrl).pathname.slice(1)),
      ...(map ? { shardDatabases: Object.keys(map.databases).length } : {}),
    }),
    async close() {
      await Promise.all([...pools.values()].map((sql) => sql.end({ timeout: 5 })));
      pools.clear();
    },
  };
}
