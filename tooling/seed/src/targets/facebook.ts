/**
 * Seeds the Facebook side's database (packages/db/src/facebook/schema/profiles.ts):
 * every Facebook profile of the sample's shards (`facebookProfilesOfShard`: the
 * profiles of the shards' WhatsApp users, with their current, stale or no number,
 * and the people not on WhatsApp), and the address books a share of the WhatsApp
 * users' profiles uploaded (address-books.ts).
 *
 * The orchestrator hands every target the same batches of WhatsApp users, so each
 * sample user carries its own profile plus its proportional slice of its shard's
 * Facebook-only people (~1.01 each, see {@link facebookOnlyIdsCarriedBy}); the
 * batches stay parallel and the progress bar stays meaningful. The outside pool
 * carries nothing: its users' profiles belong to shards outside the sample.
 *
 * Per batch, in one transaction (like the messenger target): COPY the profiles,
 * each with its address book as a text[] (or NULL), into a temp table, then one
 * statement inserts the profiles `on conflict do nothing` and the address-book
 * entries of the profiles it actually inserted. So a second run adds nothing, and
 * an address book replaced since (`profiles.upsert`) is never topped up behind its
 * back.
 */
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type postgres from "postgres";
import {
  type FacebookProfile,
  type PopulationSpec,
  facebookOnlyCount,
  facebookProfileAt,
  facebookProfileOfUser,
  shardSize,
} from "@handshake/population";
import { rawClient } from "@handshake/db/client";
import { migrateDatabase } from "@handshake/db/migrate";
import { type AddressBookEntry, type AddressBookOptions, addressBookEntriesOf, uploadsAddressBook } from "../address-books";
import { copyText } from "../copy-text";
import type { SeedUser } from "../sample";
import type { SeedTarget, TableCounts } from "./target";

export interface FacebookTargetOptions {
  spec: PopulationSpec;
  databaseUrl: string;
  /** Connections (batches in flight). */
  concurrency: number;
  addressBooks: AddressBookOptions;
}

export const FACEBOOK_TABLES = ["profiles", "address_book_entries"] as const;

/** floor(a·b / c) exactly, also when a·b exceeds 2^53. */
function mulDiv(a: number, b: number, c: number): number {
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER) {
    // the quotient is rounded to nearest: it can only land one above the floor
    const q = Math.floor(product / c);
    return q * c > product ? q - 1 : q;
  }
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

/**
 * The Facebook-only people WhatsApp user i brings into a seeding run (besides its
 * own profile): the user at offset o of a shard of n users carries Facebook-only
 * ranks [⌊o·F/n⌋, ⌊(o+1)·F/n⌋) of that shard's F, as profile ids [start, end).
 * Over a shard's users the slices tile the shard's Facebook-only people exactly,
 * so the users' own profiles plus their slices are `facebookProfilesOfShard`.
 */
export function facebookOnlyIdsCarriedBy(spec: PopulationSpec, i: number): { start: number; end: number } {
  const n = shardSize(spec);
  const perShard = facebookOnlyCount(spec) / spec.shardCount;
  const s = Math.floor(i / n);
  const o = i - s * n;
  const base = spec.size + s * perShard;
  return { start: base + mulDiv(o, perShard, n), end: base + mulDiv(o + 1, perShard, n) };
}

/** One COPY line of the staging table: id, name, country, phone, address book (numbers, then the names saved for them). */
function stagingLine(profile: FacebookProfile, book: readonly AddressBookEntry[] | null): string {
  // phones are "+" and digits: nothing to quote inside the array literal; names are quoted array elements
  const phones = book ? `{${book.map((e) => e.phone).join(",")}}` : "\\N";
  const names = book ? copyText(`{${book.map((e) => arrayElement(e.name)).join(",")}}`) : "\\N";
  return [String(profile.id), copyText(profile.name), profile.country, copyText(profile.phone), phones, names].join("\t");
}

/** A text[] literal element: double-quoted, with `"` and `\` escaped. */
function arrayElement(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

const STAGING_COLUMNS = `(id int8, name text, country text, phone_number text, address_book text[], address_book_names text[])`;

/** The Facebook target over a postgres.js pool of `concurrency` connections. */
export function facebookTarget(options: FacebookTargetOptions): SeedTarget {
  const { spec, addressBooks } = options;
  let sql: postgres.Sql | null = null;
  const spent = { generate: 0, copy: 0, insert: 0 };
  // what the sample holds by the population (present afterwards unless changed since)
  const sample = { profiles: 0, addressBookEntries: 0 };

  /** The batch's COPY text, ~256 KB chunks, and how many profiles and entries it holds. */
  const encode = (batch: readonly SeedUser[]) => {
    const chunks: string[] = [];
    let chunk = "";
    let profiles = 0;
    let entries = 0;
    const add = (profile: FacebookProfile, book: AddressBookEntry[] | null) => {
      chunk += stagingLine(profile, book) + "\n";
      profiles++;
      entries += book?.length ?? 0;
      if (chunk.length >= 262_144) {
        chunks.push(chunk);
        chunk = "";
      }
    };
    for (const u of batch) {
      if (u.outside) continue;
      const i = u.user.id;
      const own = facebookProfileOfUser(spec, i);
      if (own) add(own, uploadsAddressBook(spec, i, addressBooks) ? addressBookEntriesOf(spec, i, addressBooks) : null);
      const carried = facebookOnlyIdsCarriedBy(spec, i);
      for (let j = carried.start; j < carried.end; j++) add(facebookProfileAt(spec, j)!, null);
    }
    if (chunk) chunks.push(chunk);
    return { chunks, profiles, entries };
  };

  const seedBatch = async (batch: readonly SeedUser[]): Promise<TableCounts> => {
    if (!sql) throw new Error("facebook target used before prepare()");
    const t0 = performance.now();
    const { chunks, profiles, entries } = encode(batch);
    spent.generate += (performance.now() - t0) / 1000;
    sample.profiles += profiles;
    sample.addressBookEntries += entries;
    if (profiles === 0) return { profiles: 0, address_book_entries: 0 };
    const [row] = await sql.begin(async (tx) => {
      const t1 = performance.now();
      await tx.unsafe(`create temp table fb_staging ${STAGING_COLUMNS} on commit drop`);
      const writable = await tx`copy fb_staging from stdin`.writable();
      await pipeline(Readable.from(chunks), writable);
      const t2 = performance.now();
      spent.copy += (t2 - t1) / 1000;
      const inserted = await tx<{ profiles: number; entries: number }[]>`
        with p as (
          insert into profiles (id, name, country, phone_number)
          select id, name, country, phone_number from fb_staging
          on conflict (id) do nothing
          returning id),
        a as (
          insert into address_book_entries (profile_id, phone_number, contact_name)
          select s.id, e.phone, e.name from fb_staging s join p on p.id = s.id
          cross join unnest(s.address_book, s.address_book_names) as e(phone, name)
          on conflict do nothing
          returning 1)
        select (select count(*) from p)::int as profiles, (select count(*) from a)::int as entries`;
      spent.insert += (performance.now() - t2) / 1000;
      return inserted;
    });
    return { profiles: row?.profiles ?? 0, address_book_entries: row?.entries ?? 0 };
  };

  return {
    name: "facebook",
    tables: FACEBOOK_TABLES,
    userTable: "profiles",
    async prepare() {
      await migrateDatabase(options.databaseUrl, "facebook");
      sql = rawClient(options.databaseUrl, { max: options.concurrency, applicationName: "seed" });
    },
    seedBatch,
    timings: () => ({ "generate (profiles, address books)": spent.generate, "copy (stream)": spent.copy, "insert (indexes)": spent.insert }),
    fixtureMeta: () => ({
      databaseName: decodeURIComponent(new URL(options.databaseUrl).pathname.slice(1)),
      profiles: sample.profiles,
      addressBookEntries: sample.addressBookEntries,
    }),
    async close() {
      await sql?.end({ timeout: 5 });
      sql = null;
    },
  };
}
