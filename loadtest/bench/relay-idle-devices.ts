/**
 * Devices for the idle-connection bench, seeded straight into the messenger's
 * tables (not registered through the API: 100,000 registrations would dominate
 * the run, and registration checks possession). Ids and credentials are pure
 * functions of the index, so client processes derive them without a file.
 * Bench databases only: anyone can derive these credentials.
 */
import { createHash } from "node:crypto";
import type postgres from "postgres";

const hex = (text: string) => createHash("md5").update(text).digest("hex");

export function benchAccountId(i: number): string {
  const h = hex(`bench-account-${i}`);
  // RFC 9562 version 8 (custom) with the RFC variant, so it passes uuid validation.
  const variant = (8 | (parseInt(h[16]!, 16) & 3)).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** 32 bytes, base64url: the shape the messenger's credential parser expects. */
export function benchSecret(i: number): string {
  return createHash("sha256").update(`bench-secret-${i}`).digest("base64url");
}

export function benchCredential(i: number): string {
  return `${benchAccountId(i)}.1.${benchSecret(i)}`;
}

/** Inserts accounts and devices 0 … n-1 (10,000 per statement); returns rows inserted. */
export async function seedBenchDevices(sql: postgres.Sql, n: number, onProgress?: (done: number) => void): Promise<number> {
  const createdAt = new Date("2016-08-19T12:00:00Z");
  let inserted = 0;
  for (let from = 0; from < n; from += 10_000) {
    const indices = Array.from({ length: Math.min(10_000, n - from) }, (_, k) => from + k);
    const ids = indices.map(benchAccountId);
    const phones = indices.map((i) => `+49151${String(i).padStart(8, "0")}`);
    const shards = indices.map((i) => i % 10_000);
    const hashes = indices.map((i) => createHash("sha256").update(benchSecret(i)).digest());
    await sql.begin(async (tx) => {
      await tx`
        insert into accounts (id, phone_number, country, shard, kind, created_at)
        select id, phone, 'DE', shard, 'personal', ${createdAt}
        from unnest(${tx.array(ids)}::uuid[], ${tx.array(phones)}::text[], ${tx.array(shards)}::int[]) as t(id, phone, shard)
        on conflict do nothing`;
      const rows = await tx`
        insert into devices (account_id, device_id, credential_hash, os, os_version, app_version, model, created_at)
        select id, 1, hash, 'android', '6.0.1', '2.16.260', 'bench', ${createdAt}
        from unnest(${tx.array(ids)}::uuid[], ${tx.array(hashes)}::bytea[]) as t(id, hash)
        on conflict do nothing
        returning 1`;
      inserted += rows.length;
    });
    onProgress?.(from + indices.length);
  }
  return inserted;
}
