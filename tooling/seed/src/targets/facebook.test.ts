/**
 * Seeding the Facebook side beside the messenger: every profile of the sample's
 * shards with the population's phone state, address books made of contacts'
 * phones, idempotent, and a real Facebook service on the seeded database turns a
 * shared WhatsApp number into friend suggestions from those address books.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FacebookProfile, contactsOf, createSpec, facebookProfileAt, facebookProfilesOfShard, nameOf, shardRange, userCoreAt } from "@handshake/population";
import { rawClient } from "@handshake/db/client";
import { createTestDatabase, type TestDatabase } from "@handshake/db/testing";
import { TEST_FACEBOOK_ADMIN_TOKEN, startTestFacebook, type TestFacebook } from "@handshake/facebook/testing";
import { type AddressBookOptions, addressBookOf, uploadsAddressBook } from "../address-books";
import type { FixtureMeta } from "../fixtures";
import { sampleIdentity } from "../identity";
import { generateKeySet, type SeedKeySet } from "../key-set";
import { type SeedResult, seedSample } from "../seed";
import { facebookOnlyIdsCarriedBy } from "./facebook";

// 20,000 users in 10 shards: a sample of 2 shards holds a fifth of everyone's
// contacts, so address books inside the sample name each other often.
const spec = createSpec({ size: 20_000, shardCount: 10, seed: 11 });
const shards = [2, 5];
// a small cap, so capped books are common in the sample
const books: AddressBookOptions = { share: 0.3, max: 20 };
const SERVICE_TOKEN = "seed-test-service-token-0123456789";

let messengerDb: TestDatabase;
let facebookDb: TestDatabase;
let fixturesDir: string;
let keySet: SeedKeySet;
let first: SeedResult;
let sql: ReturnType<typeof rawClient>;
const profiles = new Map<number, FacebookProfile>();
let expectedEntries = 0;

const rowsOf = (result: SeedResult, target: string) =>
  Object.fromEntries(result.tables.filter((t) => t.target === target).map((t) => [t.table, t.rows]));
const sampleUserIds = () => shards.flatMap((s) => { const { start, end } = shardRange(spec, s); return Array.from({ length: end - start }, (_, k) => start + k); });
const seed = (options: { fixturesDir: string | null; batchSize: number }) =>
  seedSample({
    spec, shards, databaseUrl: messengerDb.url, facebookDatabaseUrl: facebookDb.url, addressBooks: books,
    prekeys: 1, outside: 20, keySet, now: () => new Date("2026-01-02T03:04:05.000Z"), ...options,
  });

beforeAll(async () => {
  [messengerDb, facebookDb] = await Promise.all([createTestDatabase("seedfb_m"), createTestDatabase("seedfb_f")]);
  fixturesDir = await mkdtemp(path.join(tmpdir(), "handshake-seed-fb-"));
  keySet = await generateKeySet(1);
  for (const s of shards) for (const p of facebookProfilesOfShard(spec, s)) profiles.set(p.id, p);
  for (const p of profiles.values()) {
    if (p.whatsappUserId !== null && uploadsAddressBook(spec, p.id, books)) expectedEntries += addressBookOf(spec, p.id, books).length;
  }
  first = await seed({ fixturesDir, batchSize: 900 });
  sql = rawClient(facebookDb.url, { max: 2 });
});

afterAll(async () => {
  await sql?.end();
  await rm(fixturesDir, { recursive: true, force: true });
  await Promise.all([messengerDb?.drop(), facebookDb?.drop()]);
});

describe("seeding the Facebook side", () => {
  it("the Facebook-only people carried by a shard's users are exactly the shard's", () => {
    const { start, end } = shardRange(spec, 5);
    let next = facebookOnlyIdsCarriedBy(spec, start).start;
    for (let i = start; i < end; i++) {
      const slice = facebookOnlyIdsCarriedBy(spec, i);
      expect(slice.start).toBe(next);
      next = slice.end;
    }
    const onlyIds = [...facebookProfilesOfShard(spec, 5)].filter((p) => p.whatsappUserId === null).map((p) => p.id);
    expect([facebookOnlyIdsCarriedBy(spec, start).start, next]).toEqual([onlyIds[0], onlyIds.at(-1)! + 1]);
  });

  it("fills both databases: every profile of the sample's shards, and the uploaded address books", async () => {
    expect(profiles.size).toBeGreaterThan(3000);
    expect(rowsOf(first, "facebook")).toEqual({ profiles: profiles.size, address_book_entries: expectedEntries });
    expect(rowsOf(first, "messenger")).toMatchObject({ accounts: 4000 + 20 });
    const ids = await sql<{ id: string }[]>`select id from profiles order by id`;
    expect(ids.map((r) => Number(r.id))).toEqual([...profiles.keys()].sort((a, b) => a - b));
    const [row] = await sql`select count(*)::int as n from address_book_entries`;
    expect(row!.n).toBe(expectedEntries);
    expect(first.targets).toEqual(["messenger", "facebook"]);
  });

  it("gives each profile the population's name, country and number: current, stale (nobody's WhatsApp number) or none", async () => {
    const rows = await sql<{ id: string; name: string; country: string; phone_number: string | null }[]>`
      select id, name, country, phone_number from profiles`;
    const whatsappNumbers = new Set(sampleUserIds().map((i) => userCoreAt(spec, i).phone));
    const states = { current: 0, stale: 0, none: 0 };
    for (const r of rows) {
      const p = profiles.get(Number(r.id))!;
      expect({ name: r.name, country: r.country, phone: r.phone_number }).toEqual({ name: p.name, country: p.country, phone: p.phone });
      states[p.phoneState]++;
      if (p.phoneState === "current" && p.whatsappUserId !== null) expect(r.phone_number).toBe(userCoreAt(spec, p.whatsappUserId).phone);
      if (p.phoneState === "stale") {
        expect(r.phone_number).not.toBeNull();
        expect(whatsappNumbers.has(r.phone_number!)).toBe(false);
      }
      if (p.phoneState === "none") expect(r.phone_number).toBeNull();
    }
    // every state occurs, so the checks above ran
    expect(Object.values(states).every((n) => n > 0)).toBe(true);
  });

  it("an uploaded address book holds phones of the user's WhatsApp contacts, capped; only WhatsApp users' profiles upload", async () => {
    const entries = await sql<{ profile_id: string; phones: string[]; names: string[] }[]>`
      select profile_id, array_agg(phone_number order by phone_number) as phones, array_agg(contact_name order by phone_number) as names
      from address_book_entries group by profile_id`;
    expect(entries.length).toBeGreaterThan(100);
    let capped = 0;
    for (const e of entries) {
      const id = Number(e.profile_id);
      expect(profiles.get(id)!.whatsappUserId).toBe(id);
      expect(uploadsAddressBook(spec, id, books)).toBe(true);
      const contactPhones = new Set(contactsOf(spec, id).map((c) => userCoreAt(spec, c).phone));
      for (const phone of e.phones) expect(contactPhones.has(phone)).toBe(true);
      // each number under the contact's own name (the key for linking profiles by name)
      const nameByPhone = new Map(contactsOf(spec, id).map((c) => [userCoreAt(spec, c).phone, nameOf(spec, c)]));
      expect(e.names).toEqual(e.phones.map((phone) => nameByPhone.get(phone)));
      expect(e.phones.length).toBe(Math.min(books.max, contactPhones.size));
      if (contactPhones.size > books.max) capped++;
    }
    expect(capped).toBeGreaterThan(0);
  });

  it("writes a facebook section into meta.json (database, profiles, address-book entries)", async () => {
    const meta = JSON.parse(await readFile(path.join(fixturesDir, "meta.json"), "utf8")) as FixtureMeta;
    expect(Object.keys(meta)).toEqual(["version", "seed", "size", "shardCount", "shards", "users", "createdAt", "messenger", "facebook", "outside"]);
    expect(meta.facebook).toEqual({ databaseName: facebookDb.name, profiles: profiles.size, addressBookEntries: expectedEntries });
  });

  it("is idempotent, and never tops up an address book replaced since", async () => {
    const uploader = [...profiles.values()].find((p) => p.whatsappUserId !== null && uploadsAddressBook(spec, p.id, books))!;
    await sql`delete from address_book_entries where profile_id = ${uploader.id}`;
    const again = await seed({ fixturesDir: null, batchSize: 1300 });
    expect(rowsOf(again, "facebook")).toEqual({ profiles: 0, address_book_entries: 0 });
    expect(Object.values(rowsOf(again, "messenger")).every((n) => n === 0)).toBe(true);
    const [row] = await sql`select (select count(*)::int from profiles) as profiles, (select count(*)::int from address_book_entries) as entries`;
    expect(row).toEqual({ profiles: profiles.size, entries: expectedEntries - addressBookOf(spec, uploader.id, books).length });
  });
});

describe("a real Facebook service on the seeded database", () => {
  let facebook: TestFacebook;
  beforeAll(async () => {
    facebook = await startTestFacebook({ databaseUrl: facebookDb.url, serviceToken: SERVICE_TOKEN });
  });
  afterAll(async () => {
    await facebook?.close();
  });

  const suggestionsFor = async (profileId: number) => {
    const input = encodeURIComponent(JSON.stringify({ profileId }));
    const response = await fetch(`${facebook.url}/profiles.suggestions?input=${input}`, { headers: { "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { result: { data: { suggestions: { profileId: number; name: string }[]; usedWhatsappData: boolean } } };
    return body.result.data;
  };

  it("suggests the profiles whose uploaded address books hold the number a seeded WhatsApp user shared for `product`", async () => {
    // who, by the population, uploaded a book holding user i's number
    const holdersOf = (i: number, phone: string) =>
      contactsOf(spec, i)
        .filter((c) => profiles.get(c)?.whatsappUserId === c && uploadsAddressBook(spec, c, books) && addressBookOf(spec, c, books).includes(phone))
        .sort((a, b) => a - b);
    const user = sampleUserIds().find((i) => profiles.get(i)?.phoneState === "current" && holdersOf(i, userCoreAt(spec, i).phone).length >= 2)!;
    expect(user).toBeDefined();
    const phone = userCoreAt(spec, user).phone;
    const expected = holdersOf(user, phone).slice(0, 50);

    // before anything is shared, Facebook has no WhatsApp number to suggest from
    expect(await suggestionsFor(user)).toMatchObject({ suggestions: [], usedWhatsappData: false });

    const event = {
      eventId: randomUUID(),
      sequence: 1,
      whatsappAccountId: sampleIdentity(spec).accountId(user),
      kind: "account",
      occurredAt: new Date().toISOString(),
      fields: { phoneNumber: { value: phone, purposes: ["ads", "product", "metrics", "security", "spam"] } },
    };
    const ingested = await fetch(`${facebook.url}/ingest.batch`, {
      method: "POST",
      headers: { authorization: `Bearer ${SERVICE_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ events: [event] }),
    });
    expect(ingested.status).toBe(200);
    const [link] = await sql`select profile_id from links where whatsapp_account_id = ${event.whatsappAccountId}`;
    expect(Number(link!.profile_id)).toBe(user);

    const result = await suggestionsFor(user);
    expect(result.usedWhatsappData).toBe(true);
    expect(result.suggestions).toEqual(expected.map((id) => ({ profileId: id, name: facebookProfileAt(spec, id)!.name })));
  });

  it("links a seeded profile holding a stale number or none through the number WhatsApp shared, and the name address books saved it under", async () => {
    const sameName = new Map<string, number>();
    for (const p of profiles.values()) sameName.set(`${p.country}/${p.name}`, (sameName.get(`${p.country}/${p.name}`) ?? 0) + 1);
    const user = sampleUserIds().find((i) => {
      const p = profiles.get(i);
      if (!p || p.phoneState === "current" || sameName.get(`${p.country}/${p.name}`) !== 1) return false;
      const phone = userCoreAt(spec, i).phone;
      return contactsOf(spec, i).some((c) => profiles.get(c)?.whatsappUserId === c && uploadsAddressBook(spec, c, books) && addressBookOf(spec, c, books).includes(phone));
    })!;
    expect(user).toBeDefined();
    const core = userCoreAt(spec, user);
    const account = sampleIdentity(spec).accountId(user);
    const ingest = (sequence: number, purposes: string[]) =>
      fetch(`${facebook.url}/ingest.batch`, {
        method: "POST",
        headers: { authorization: `Bearer ${SERVICE_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({
          events: [{
            eventId: randomUUID(), sequence, whatsappAccountId: account, kind: "consent", occurredAt: new Date().toISOString(),
            fields: { phoneNumber: { value: core.phone, purposes }, country: { value: core.country, purposes } },
          }],
        }),
      });
    const linkOf = async () => (await sql`select profile_id, linked_by from links where whatsapp_account_id = ${account}`)[0];
    // unticked: shared for spam only, nothing links
    expect((await ingest(1, ["spam"])).status).toBe(200);
    expect(await linkOf()).toBeUndefined();
    expect((await ingest(2, ["ads", "product", "spam"])).status).toBe(200);
    expect(await linkOf()).toEqual({ profile_id: String(user), linked_by: "name" });
  });
});
