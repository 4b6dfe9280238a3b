import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSpec, contactsOf, shardOf, shardRange, userAt } from "@handshake/population";
import { shardOfPhone } from "@handshake/db/messenger-shards";
import { rawClient } from "@handshake/db/client";
import { createTestDatabase, type TestDatabase } from "@handshake/db/testing";
import { createMessengerServer, type MessengerServer } from "@handshake/messenger/server";
import { createLogger } from "@handshake/messenger/log";
import { SignalDevice, preKeyBundleSchema } from "@handshake/crypto";
import type { FixtureMeta, FixtureUser } from "./fixtures";
import { generateKeySet, type SeedKeySet } from "./key-set";
import { type SeedResult, seedSample } from "./seed";
import { sampleIdentity } from "./identity";
import { outsidePool } from "./sample";

// 1e6 users in 1000 shards: 1000 users per shard, a sample of 2 shards.
const spec = createSpec({ size: 1_000_000, shardCount: 1000, seed: 7 });
const shards = [3, 10];
const OUTSIDE = 50;
const PREKEYS = 3;

let db: TestDatabase;
let fixturesDir: string;
let keySet: SeedKeySet;
let first: SeedResult;
let sql: ReturnType<typeof rawClient>;

const rowsOf = (result: SeedResult) => Object.fromEntries(result.tables.map((t) => [t.table, t.rows]));

async function tableCounts(): Promise<Record<string, number>> {
  const [row] = await sql<Record<string, number>[]>`
    select (select count(*)::int from accounts) as accounts, (select count(*)::int from devices) as devices,
           (select count(*)::int from signed_prekeys) as signed_prekeys,
           (select count(*)::int from kyber_prekeys) as kyber_prekeys,
           (select count(*)::int from one_time_prekeys) as one_time_prekeys`;
  return row!;
}

beforeAll(async () => {
  db = await createTestDatabase("seed");
  fixturesDir = await mkdtemp(path.join(tmpdir(), "handshake-seed-"));
  keySet = await generateKeySet(PREKEYS);
  first = await seedSample({
    spec,
    shards,
    databaseUrl: db.url,
    fixturesDir,
    prekeys: PREKEYS,
    outside: OUTSIDE,
    batchSize: 700,
    keySet,
    now: () => new Date("2026-01-02T03:04:05.000Z"),
  });
  sql = rawClient(db.url, { max: 2 });
});

afterAll(async () => {
  await sql?.end();
  await rm(fixturesDir, { recursive: true, force: true });
  await db?.drop();
});

describe("seedSample into the messenger's database", () => {
  it("inserts one account, device, signed and Kyber prekey and k one-time prekeys per user", async () => {
    const users = 2 * 1000 + OUTSIDE;
    const expected = { accounts: users, devices: users, signed_prekeys: users, kyber_prekeys: users, one_time_prekeys: users * PREKEYS };
    expect(rowsOf(first)).toEqual(expected);
    expect(await tableCounts()).toEqual(expected);
    expect(first.skipped).toBe(0);
  });

  it("stores the population's fields: country, phone, kind, registration time, device details; the shard is the messenger's of the phone", async () => {
    const i = shardRange(spec, 10).start + 17;
    const user = userAt(spec, i);
    const [row] = await sql`
      select a.phone_number, a.country, a.shard, a.kind, a.display_name, a.created_at, d.os, d.os_version, d.app_version,
             d.model, d.registration_id, d.identity_key
      from accounts a join devices d on d.account_id = a.id where a.phone_number = ${user.phone}`;
    expect(row).toMatchObject({
      country: user.country,
      shard: shardOfPhone(user.phone, 10_000),
      kind: user.business ? "business" : "personal",
      os: user.os,
      os_version: user.osVersion,
      app_version: user.appVersion,
      model: user.deviceModel,
      registration_id: keySet.registrationId,
    });
    expect((row!.created_at as Date).getTime()).toBe(user.registeredAt);
    expect(Buffer.compare(row!.identity_key as Buffer, keySet.identityKey)).toBe(0);
    const businesses = await sql`select count(*)::int as n from accounts where kind = 'business' and display_name is not null`;
    const personalNamed = await sql`select count(*)::int as n from accounts where kind = 'personal' and display_name is not null`;
    expect(personalNamed[0]!.n).toBe(0);
    expect(businesses[0]!.n).toBeGreaterThan(0);
  });

  it("is idempotent: seeding the same sample again adds no row", async () => {
    const again = await seedSample({
      spec,
      shards,
      databaseUrl: db.url,
      fixturesDir: null,
      prekeys: PREKEYS,
      outside: OUTSIDE,
      batchSize: 999,
    });
    expect(Object.values(rowsOf(again)).every((n) => n === 0)).toBe(true);
    expect(again.skipped).toBe(2 * 1000 + OUTSIDE);
    expect((await tableCounts()).accounts).toBe(2 * 1000 + OUTSIDE);
  });
});

describe("a seeded phone number already registered by someone else", () => {
  it("skips that user, with its device and keys, and seeds the rest", async () => {
    const i = shardRange(spec, 20).start + 5;
    const squatter = "00000000-0000-4000-8000-000000000001";
    await sql`insert into accounts (id, phone_number, country, shard, kind, created_at)
              values (${squatter}, ${userAt(spec, i).phone}, 'XX', 20, 'personal', now())`;
    const result = await seedSample({ spec, shards: [20], databaseUrl: db.url, fixturesDir: null, prekeys: PREKEYS, outside: 0, keySet });
    expect(result.skipped).toBe(1);
    expect(rowsOf(result)).toMatchObject({ accounts: 999, devices: 999, one_time_prekeys: 999 * PREKEYS });
    const [row] = await sql`select count(*)::int as n from devices where account_id = ${squatter}`;
    expect(row!.n).toBe(0);
  });
});

describe("fixture files", () => {
  it("are not put in place when seeding fails", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "handshake-seed-fail-"));
    try {
      const wrongDatabase = new URL(db.url);
      wrongDatabase.pathname = "/no_such_database_here";
      await expect(
        seedSample({ spec, shards: [0], databaseUrl: wrongDatabase.toString(), fixturesDir: dir, prekeys: PREKEYS, keySet }),
      ).rejects.toThrow(/no_such_database_here/);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("meta.json follows loadtest/docs/fixtures.md", async () => {
    const meta = JSON.parse(await readFile(path.join(fixturesDir, "meta.json"), "utf8")) as FixtureMeta;
    expect(Object.keys(meta)).toEqual(["version", "seed", "size", "shardCount", "shards", "users", "createdAt", "messenger", "outside"]);
    expect(meta).toMatchObject({
      version: 1,
      seed: 7,
      size: 1_000_000,
      shardCount: 1000,
      shards: [3, 10],
      users: 2000,
      createdAt: "2026-01-02T03:04:05.000Z",
      messenger: { databaseName: db.name },
    });
    expect(meta.outside).toHaveLength(OUTSIDE);
    // The outside pool: users of other population shards, each seeded.
    const identity = sampleIdentity(spec);
    const pool = outsidePool(spec, shards, OUTSIDE);
    expect(meta.outside.map((o) => o.accountId)).toEqual(pool.map((i) => identity.accountId(i)));
    for (const i of pool) expect(shards).not.toContain(shardOf(spec, i));
    const stubs = await sql`select id from accounts where id in ${sql(meta.outside.map((o) => o.accountId))}`;
    expect(stubs).toHaveLength(OUTSIDE);
  });

  it("users.json lists the sample in population order with in-sample contacts as indexes", async () => {
    const users = JSON.parse(await readFile(path.join(fixturesDir, "users.json"), "utf8")) as FixtureUser[];
    expect(users).toHaveLength(2000);
    expect(users.map((u) => u.i)).toEqual([
      ...Array.from({ length: 1000 }, (_, k) => 3000 + k),
      ...Array.from({ length: 1000 }, (_, k) => 10_000 + k),
    ]);
    const keys = [
      "i", "accountId", "deviceId", "credential", "phone", "country", "shard", "os", "activity", "messagesPerDay",
      "business", "displayName", "consent", "acceptsAfterDays", "optsOutAfterDays", "registeredAt", "contacts", "outsideContacts",
    ];
    for (const u of users) expect(Object.keys(u)).toEqual(keys);
    const u = users[1234]!;
    const person = userAt(spec, u.i);
    expect(u).toMatchObject({ deviceId: 1, phone: person.phone, country: person.country, shard: 10, consent: person.consent });
    expect(u.credential.startsWith(`${u.accountId}.1.`)).toBe(true);
    // every contact lands in exactly one list, and in-sample indexes point at the right user
    const contacts = contactsOf(spec, u.i);
    const inside = u.contacts.map((k) => users[k]!.i);
    expect([...inside, ...u.outsideContacts].sort((a, b) => a - b)).toEqual([...contacts].sort((a, b) => a - b));
    for (const id of u.outsideContacts) expect(shards).not.toContain(Math.floor(id / 1000));
    // symmetry survives the translation to indexes
    for (const k of u.contacts) expect(users[k]!.contacts).toContain(1234);
  });
});

describe("a real messenger on the seeded database", () => {
  let server: MessengerServer;
  let url: string;
  let users: FixtureUser[];
  let meta: FixtureMeta;

  beforeAll(async () => {
    users = JSON.parse(await readFile(path.join(fixturesDir, "users.json"), "utf8")) as FixtureUser[];
    meta = JSON.parse(await readFile(path.join(fixturesDir, "meta.json"), "utf8")) as FixtureMeta;
    server = await createMessengerServer({
      databaseUrl: db.url,
      poolSize: 2,
      logger: createLogger({ level: "silent" }),
      shardCount: spec.shardCount,
    });
    url = (await server.listen(0)).url;
  });
  afterAll(async () => {
    await server?.close();
  });

  const call = async (credential: string, method: "GET" | "POST", proc: string, input: unknown) => {
    const target = method === "GET" ? `${url}/${proc}?input=${encodeURIComponent(JSON.stringify(input))}` : `${url}/${proc}`;
    const response = await fetch(target, {
      method,
      headers: { authorization: `Bearer ${credential}`, "content-type": "application/json" },
      ...(method === "POST" ? { body: JSON.stringify(input) } : {}),
    });
    return { status: response.status, body: (await response.json()) as { result?: { data: Record<string, unknown> }; error?: unknown } };
  };

  it("a seeded user sends to a seeded contact with its fixture credential; the envelope is queued", async () => {
    const sender = users.find((u) => !u.business && u.contacts.length > 0)!;
    const recipient = users[sender.contacts[0]!]!;
    const messageId = "0b6f3c52-3f0e-4a57-9b1e-6d1f2d6a9c01";
    const sent = await call(sender.credential, "POST", "message.send", {
      messageId,
      recipient: { accountId: recipient.accountId, deviceId: 1 },
      type: 1,
      content: Buffer.from("opaque ciphertext").toString("base64"),
    });
    expect(sent.status).toBe(200);
    const queued = await sql`
      select recipient_shard, sender_account_id from envelopes
      where recipient_account_id = ${recipient.accountId} and message_id = ${messageId}`;
    // The envelope carries its recipient's messenger shard (of the phone), as for registered accounts.
    expect(queued).toEqual([{ recipient_shard: shardOfPhone(recipient.phone, 10_000), sender_account_id: sender.accountId }]);
  });

  it("a send to an outside stub is stored like any other", async () => {
    const sender = users.find((u) => !u.business && u.outsideContacts.length > 0)!;
    const stub = meta.outside[sender.outsideContacts[0]! % meta.outside.length]!;
    const sent = await call(sender.credential, "POST", "message.send", {
      messageId: "7d0c9a0e-2b4b-4a11-8f0e-3c3a2b1d0e99",
      recipient: stub,
      type: 1,
      content: Buffer.from("more ciphertext").toString("base64"),
    });
    expect(sent.status).toBe(200);
    const [row] = await sql`select count(*)::int as n from envelopes where recipient_account_id = ${stub.accountId}`;
    expect(row!.n).toBe(1);
  });

  it("a wrong secret is refused", async () => {
    const user = users[0]!;
    const forged = `${user.accountId}.1.${"A".repeat(43)}`;
    const res = await call(forged, "GET", "keys.count", undefined);
    expect(res.status).toBe(401);
  });

  it("serves a prekey bundle for a seeded user from the shared key set, consuming one one-time prekey", async () => {
    const asker = users[5]!;
    const target = users[6]!;
    const res = await call(asker.credential, "GET", "keys.bundle", { accountId: target.accountId, deviceId: 1 });
    expect(res.status).toBe(200);
    const bundle = res.body.result!.data;
    expect(bundle).toMatchObject({
      accountId: target.accountId,
      registrationId: keySet.registrationId,
      identityKey: keySet.identityKey.toString("base64"),
      kyberPreKey: { keyId: keySet.kyberPreKey.keyId, publicKey: keySet.kyberPreKey.publicKey.toString("base64") },
      oneTimePreKey: { keyId: keySet.oneTimePreKeys[0]!.keyId },
    });
    const left = await call(target.credential, "GET", "keys.count", undefined);
    expect(left.body.result!.data).toEqual({ oneTimePreKeys: PREKEYS - 1, oneTimeKyberPreKeys: 0 });
    // the shared key set is real libsignal material: a session can be started from it
    const device = await SignalDevice.create();
    const remote = { accountId: target.accountId, deviceId: 1 };
    await device.startSession(remote, preKeyBundleSchema.parse(bundle));
    expect((await device.encrypt(remote, new TextEncoder().encode("hi"))).type).toBe(3);
  });
});
