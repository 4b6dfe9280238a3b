/**
 * A messenger over two real PostgreSQL servers: the run's (shards 0..4999, home)
 * and a second embedded one started here (shards 5000..9999). Cross-shard
 * messaging live and offline with resume, prekey bundles across shards, racing
 * senders on both shards, a business across shards, two nodes whose NATS wake-ups
 * are lost (each database's sweep delivers), and the second server restarted while
 * messages flow.
 */
import { randomUUID } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveredEnvelope } from "@handshake/crypto/wire";
import { ensureDatabase, startEmbeddedPostgres, type RunningPostgres } from "@handshake/db/embedded";
import { PostgresFaultProxy } from "@handshake/db/fault-proxy";
import { startNatsServer } from "@handshake/nats-server";
import { createTestDatabase, type TestDatabase } from "@handshake/db/testing";
import { parseShardMap, shardOfAccountId, shardOfPhone } from "@handshake/db/messenger-shards";
import { startTestMessenger, TEST_ADMIN_TOKEN, type TestMessenger } from "../testing";
import { httpApi, openInbox, phone, registerAccount, type TestAccount } from "../../test/helpers";

const SHARDS = 10_000;
let scratch: string;
let pgB: RunningPostgres;
let dbA: TestDatabase;
let urlB: string;
let messenger: TestMessenger;
let sqlA: postgres.Sql;
let sqlB: postgres.Sql;
let shardMap: ReturnType<typeof parseShardMap>;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "handshake-shard-b-"));
  // PostgreSQL may run as a `postgres` user (when tests run as root): it must enter the folder.
  await chmod(scratch, 0o755);
  pgB = await startEmbeddedPostgres({ dataDir: path.join(scratch, "pg"), ephemeral: true });
  urlB = await ensureDatabase(pgB.url, "shard_b");
  dbA = await createTestDatabase("messenger");
  shardMap = parseShardMap({
    version: 1,
    shardCount: SHARDS,
    databases: { a: dbA.url, b: urlB },
    ranges: [
      { from: 0, to: 4_999, database: "a" },
      { from: 5_000, to: 9_999, database: "b" },
    ],
  });
  messenger = await startTestMessenger({ rateLimits: false, shardMap, outboxes: { sweepIntervalMs: 200, minAgeMs: 300 } });
  sqlA = postgres(dbA.url, { max: 2, onnotice: () => {} });
  sqlB = postgres(urlB, { max: 2, onnotice: () => {} });
}, 120_000);
afterAll(async () => {
  await sqlA?.end();
  await sqlB?.end();
  await messenger?.close();
  await dbA?.drop();
  await pgB?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** A fresh number whose shard lies on database `a` (< 5000) or `b`. */
function phoneOn(database: "a" | "b"): string {
  for (;;) {
    const candidate = phone("7");
    if (shardOfPhone(candidate, SHARDS) < 5_000 === (database === "a")) return candidate;
  }
}
const accountOn = (database: "a" | "b", keys?: number) =>
  registerAccount(messenger.url, { phoneNumber: phoneOn(database), ...(keys !== undefined ? { keys } : {}) });

/** A live inbox over a real WebSocket. */
function inbox(account: TestAccount, lastEventId?: string) {
  return inboxAt(messenger.url, account, lastEventId);
}
/** On a database cut or restart a send may take a while: 30 s for the envelopes to arrive. */
function inboxAt(url: string, account: TestAccount, lastEventId?: string) {
  const opened = openInbox(url, account, lastEventId);
  return { ...opened, count: (n: number, timeoutMs = 30_000) => opened.count(n, timeoutMs) };
}

async function sendOne(from: TestAccount, to: TestAccount, messageId = randomUUID()): Promise<string> {
  await from.api.message.send.mutate({
    messageId,
    recipient: { accountId: to.accountId },
    type: 1,
    content: Buffer.from(`opaque ${messageId}`).toString("base64"),
  });
  return messageId;
}
async function sendMany(from: TestAccount, to: TestAccount, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await sendOne(from, to));
  return ids;
}
const ascending = (envelopes: DeliveredEnvelope[]) => envelopes.every((e, i) => i === 0 || BigInt(e.id) > BigInt(envelopes[i - 1]!.id));
const rowsOf = async (sql: postgres.Sql, table: "accounts" | "devices" | "envelopes", accountId: string) => {
  const column = table === "accounts" ? "id" : table === "devices" ? "account_id" : "recipient_account_id";
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(table)} where ${sql(column)} = ${accountId}`;
  return row!.n;
};

describe("a shard map over two PostgreSQL servers", () => {
  it("registration puts devices on the number's shard database; the id carries the shard; home keeps the account's directory row", async () => {
    const alice = await accountOn("a");
    const bob = await accountOn("b");
    expect(shardOfAccountId(alice.accountId)).toBeLessThan(5_000);
    expect(shardOfAccountId(bob.accountId)).toBeGreaterThanOrEqual(5_000);
    expect(await rowsOf(sqlA, "devices", alice.accountId)).toBe(1);
    expect(await rowsOf(sqlB, "devices", alice.accountId)).toBe(0);
    expect(await rowsOf(sqlB, "devices", bob.accountId)).toBe(1);
    expect(await rowsOf(sqlA, "devices", bob.accountId)).toBe(0);
    // Consent, share and dashboards read the directory row on home (database a).
    expect(await rowsOf(sqlA, "accounts", bob.accountId)).toBe(1);
    expect(await rowsOf(sqlB, "accounts", bob.accountId)).toBe(1);
  });

  it("sender on shard A, recipient on shard B: live, in order, stored only on B; the receipt of B's ack reaches A", async () => {
    const alice = await accountOn("a");
    const bob = await accountOn("b");
    const bobInbox = inbox(bob);
    await bobInbox.ready;
    const sent = await sendMany(alice, bob, 5);
    await bobInbox.count(5);
    expect(bobInbox.received.map((e) => e.messageId)).toEqual(sent);
    expect(await rowsOf(sqlB, "envelopes", bob.accountId)).toBe(5);
    expect(await rowsOf(sqlA, "envelopes", bob.accountId)).toBe(0);

    const aliceInbox = inbox(alice);
    await aliceInbox.ready;
    await bob.api.inbox.ack.mutate({ ids: bobInbox.received.map((e) => e.id) });
    await aliceInbox.count(5);
    expect(aliceInbox.received.every((e) => e.type === 5 && e.senderAccountId === bob.accountId)).toBe(true);
    // One receipt per message (an ack's receipts come in no particular order).
    expect(aliceInbox.received.map((e) => e.messageId).sort()).toEqual([...sent].sort());
    expect(await rowsOf(sqlB, "envelopes", bob.accountId)).toBe(0);
    expect(await rowsOf(sqlA, "envelopes", alice.accountId)).toBe(5);
    bobInbox.close();
    aliceInbox.close();
  });

  it("sender on shard B, recipient on home: the receipt of the ack on home is stored on B, where the sender reads", async () => {
    const alice = await accountOn("a");
    const bob = await accountOn("b");
    const sent = await sendMany(bob, alice, 3);
    const aliceInbox = inbox(alice);
    await aliceInbox.count(3);
    const bobInbox = inbox(bob);
    await bobInbox.ready;
    // Home holds bob's directory row: the receipts must still go to bob's own database.
    await alice.api.inbox.ack.mutate({ ids: aliceInbox.received.map((e) => e.id) });
    await bobInbox.count(3);
    expect(bobInbox.received.every((e) => e.type === 5 && e.senderAccountId === alice.accountId)).toBe(true);
    expect(bobInbox.received.map((e) => e.messageId).sort()).toEqual([...sent].sort());
    expect(await rowsOf(sqlA, "envelopes", bob.accountId)).toBe(0);
    // The receipts' ids came from B's sequence: a message stored on B afterwards is still
    // after bob's cursor (ids from home's sequence had carried the cursor past it).
    await sendOne(alice, bob);
    await bobInbox.count(4);
    expect(bobInbox.received.at(-1)!.type).toBe(1);
    aliceInbox.close();
    bobInbox.close();
  });

  it("offline recipients on either shard, then resumed after lastEventId: nothing lost, nothing twice", async () => {
    for (const [from, to] of [
      ["a", "b"],
      ["b", "a"],
    ] as const) {
      const sender = await accountOn(from);
      const recipient = await accountOn(to);
      const first = await sendMany(sender, recipient, 4);
      const one = inbox(recipient);
      await one.count(4);
      expect(one.received.map((e) => e.messageId)).toEqual(first);
      const last = one.received.at(-1)!.id;
      one.close();
      const second = await sendMany(sender, recipient, 3);
      // Nothing was acknowledged: a resume that ignored lastEventId would repeat the first four.
      const two = inbox(recipient, last);
      await two.count(3);
      const third = await sendMany(sender, recipient, 1);
      await two.count(4);
      expect(two.received.map((e) => e.messageId)).toEqual([...second, ...third]);
      two.close();
    }
  });

  it("prekey bundles across shards: real libsignal sessions both ways, each one-time prekey taken from its owner's database", async () => {
    const alice = await accountOn("a", 3);
    const bob = await accountOn("b", 3);
    const [[bobKeys]] = [await sqlB<{ n: number }[]>`select count(*)::int as n from one_time_prekeys where account_id = ${bob.accountId}`];
    expect(bobKeys!.n).toBe(3);
    const bobAddress = { accountId: bob.accountId, deviceId: 1 };
    const aliceAddress = { accountId: alice.accountId, deviceId: 1 };
    const bundleOfBob = await alice.api.keys.bundle.query({ accountId: bob.accountId });
    expect(bundleOfBob.oneTimePreKey).not.toBeNull();
    expect(await bob.api.keys.count.query()).toMatchObject({ oneTimePreKeys: 2 });
    await alice.signal.startSession(bobAddress, bundleOfBob);
    const bundleOfAlice = await bob.api.keys.bundle.query({ accountId: alice.accountId });
    expect(await alice.api.keys.count.query()).toMatchObject({ oneTimePreKeys: 2 });
    await bob.signal.startSession(aliceAddress, bundleOfAlice);

    const toBob = await alice.signal.encrypt(bobAddress, new TextEncoder().encode("hello bob, from shard a"));
    await alice.api.message.send.mutate({ messageId: randomUUID(), recipient: bobAddress, type: toBob.type, content: toBob.content });
    const toAlice = await bob.signal.encrypt(aliceAddress, new TextEncoder().encode("hello alice, from shard b"));
    await bob.api.message.send.mutate({ messageId: randomUUID(), recipient: aliceAddress, type: toAlice.type, content: toAlice.content });

    const bobInbox = inbox(bob);
    const aliceInbox = inbox(alice);
    await bobInbox.count(1);
    await aliceInbox.count(1);
    const read = async (me: TestAccount, envelope: DeliveredEnvelope) =>
      new TextDecoder().decode(await me.signal.decrypt({ accountId: envelope.senderAccountId, deviceId: envelope.senderDeviceId }, envelope));
    expect(await read(bob, bobInbox.received[0]!)).toBe("hello bob, from shard a");
    expect(await read(alice, aliceInbox.received[0]!)).toBe("hello alice, from shard b");
    bobInbox.close();
    aliceInbox.close();
  });

  it("racing senders on both shards to recipients on both: every envelope once, per-recipient ids ascending, each sender's order kept", async () => {
    const senders = await Promise.all([accountOn("a"), accountOn("a"), accountOn("b"), accountOn("b")]);
    const recipients = await Promise.all([accountOn("a"), accountOn("b")]);
    const inboxes = recipients.map((r) => inbox(r));
    await Promise.all(inboxes.map((i) => i.ready));
    const PER_PAIR = 30;
    // Every sender sends to both recipients at once, each pair's sends one after another.
    const sent = await Promise.all(
      senders.map((s) => Promise.all(recipients.map((r) => sendMany(s, r, PER_PAIR)))),
    );
    for (const [ri, recipientInbox] of inboxes.entries()) {
      await recipientInbox.count(senders.length * PER_PAIR);
      await new Promise((resolve) => setTimeout(resolve, 200)); // let a duplicate show itself
      const got = recipientInbox.received;
      expect(got).toHaveLength(senders.length * PER_PAIR);
      expect(new Set(got.map((e) => e.messageId)).size).toBe(got.length);
      expect(ascending(got)).toBe(true);
      for (const [si, sender] of senders.entries()) {
        expect(got.filter((e) => e.senderAccountId === sender.accountId).map((e) => e.messageId)).toEqual(sent[si]![ri]);
      }
    }
    for (const i of inboxes) i.close();
  });

  it("a business on shard A: customers on both shards report its disguised messages, and its stats count every shard", async () => {
    const bank = await registerAccount(messenger.url, { phoneNumber: phoneOn("a"), business: "Hanse Bank" });
    const customers = [await accountOn("a"), await accountOn("b")];
    for (const account of [bank, ...customers]) {
      await account.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true }).catch(() => undefined);
    }
    const reports = [];
    for (const customer of customers) {
      const messageId = randomUUID();
      await bank.api.message.send.mutate({
        messageId,
        recipient: { accountId: customer.accountId },
        type: 1,
        content: Buffer.from("encrypted elsewhere").toString("base64"),
        category: { kind: "transactional", topic: "bank-alert" },
      });
      reports.push(await customer.api.business.reportMarketing.mutate({ businessId: bank.accountId, messageId }));
    }
    expect(reports.map((r) => r.declaredCategory)).toEqual(["transactional:bank-alert", "transactional:bank-alert"]);
    expect(await bank.api.business.stats.query()).toMatchObject({
      sentByCategory: { "transactional:bank-alert": 2 },
      reportedAsMarketing: { "transactional:bank-alert": 2 },
      reportRate: 1,
    });
  });

  it("the dashboard counts devices and the queue on both databases, and an account's envelopes where they are stored", async () => {
    const admin = httpApi(messenger.url, undefined, TEST_ADMIN_TOKEN);
    const alice = await accountOn("a");
    const bob = await accountOn("b");
    const carol = await accountOn("a");
    // Nobody is connected: everything stays queued. Alice's go to b (bob) and a (carol).
    const toBob = await sendMany(alice, bob, 3);
    await sendMany(alice, carol, 1);
    const toAlice = await sendMany(bob, alice, 2);

    const total = async (table: "devices" | "envelopes") => {
      const count = async (sql: postgres.Sql) => (await sql<{ n: number }[]>`select count(*)::int as n from ${sql(table)}`)[0]!.n;
      return { a: await count(sqlA), b: await count(sqlB) };
    };
    const devices = await total("devices");
    const envelopes = await total("envelopes");
    expect(envelopes.b).toBeGreaterThan(0);
    const overview = await admin.dashboard.overview.query();
    expect(overview.devices.registered).toBe(devices.a + devices.b);
    expect(overview.queue.depth).toBe(envelopes.a + envelopes.b);

    const aliceView = (await admin.dashboard.account.query({ accountId: alice.accountId }))!;
    expect(aliceView.envelopes.queuedFor).toBe(2);
    expect(aliceView.envelopes.queuedFrom).toBe(4);
    expect(aliceView.envelopes.recent.filter((e) => e.direction === "out")).toHaveLength(4);
    const bobView = (await admin.dashboard.account.query({ accountId: bob.accountId }))!;
    expect(bobView.envelopes.queuedFor).toBe(3);
    expect(bobView.envelopes.bytesQueuedFor).toBeGreaterThan(0);
    expect(bobView.envelopes.queuedFrom).toBe(2);
    const incoming = bobView.envelopes.recent.filter((e) => e.direction === "in");
    expect(incoming.map((e) => e.peerAccountId)).toEqual([alice.accountId, alice.accountId, alice.accountId]);
    expect(toBob).toHaveLength(3);
    expect(toAlice).toHaveLength(2);
  });

  it("two nodes over NATS whose wake-ups never cross: each shard database's own sweep delivers to its recipients", async () => {
    // Node C publishes on a NATS node D does not listen to, as when a node dies between commit and publish.
    const [busOfD, elsewhere] = await Promise.all([startNatsServer(), startNatsServer()]);
    const map = messenger.server.services.shards.map;
    const c = await startTestMessenger({ rateLimits: false, shardMap: map, nats: { url: elsewhere.url, nodeId: "node-c", sweepIntervalMs: 60_000 } });
    const d = await startTestMessenger({ rateLimits: false, shardMap: map, nats: { url: busOfD.url, nodeId: "node-d", sweepIntervalMs: 200 } });
    try {
      const sender = await registerAccount(c.url, { phoneNumber: phoneOn("a") });
      const recipients = [
        await registerAccount(d.url, { phoneNumber: phoneOn("a") }),
        await registerAccount(d.url, { phoneNumber: phoneOn("b") }),
      ];
      const inboxes = recipients.map((r) => inboxAt(d.url, r));
      await Promise.all(inboxes.map((i) => i.ready));
      const sent = [await sendMany(sender, recipients[0]!, 3), await sendMany(sender, recipients[1]!, 3)];
      for (const [i, box] of inboxes.entries()) {
        await box.count(3);
        expect(box.received.map((e) => e.messageId)).toEqual(sent[i]);
      }
      expect(d.server.sweeps.get("a")!.stats.woken).toBeGreaterThan(0);
      expect(d.server.sweeps.get("b")!.stats.woken).toBeGreaterThan(0);
      for (const box of inboxes) box.close();
    } finally {
      await c.close();
      await d.close();
      await Promise.all([busOfD.stop(), elsewhere.stop()]);
    }
  }, 60_000);

  it("receipts owed to a sender on B wait in home's outbox while B is down and after the node that owed them is gone; another node's sweep delivers each once", async () => {
    const alice = await accountOn("a");
    const bob = await accountOn("b");
    const sent = await sendMany(bob, alice, 3);
    const aliceInbox = inbox(alice);
    await aliceInbox.count(3);
    const outbox = async () => (await sqlA<{ n: number }[]>`select count(*)::int as n from receipt_outbox where to_account_id = ${bob.accountId}`)[0]!.n;

    // A second node over the same databases, whose own sweep never comes round.
    const other = await startTestMessenger({ rateLimits: false, shardMap, outboxes: { sweepIntervalMs: 3_600_000 } });
    await pgB.stop();
    // Alice's ack commits on home through the other node; the receipts it owes bob are written there with it.
    await httpApi(other.url, alice.credential).inbox.ack.mutate({ ids: aliceInbox.received.map((e) => e.id) });
    expect(await outbox()).toBe(3);
    // Its forward after the commit fails (B is down).
    const forwards = other.server.receiptOutboxes.get("a")!.stats;
    for (const until = Date.now() + 20_000; forwards.failures === 0 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(forwards).toMatchObject({ failures: 1, forwarded: 0 });
    // That node goes away (what it had in memory with it); sweeps here fail while B is down.
    await other.close();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await outbox()).toBe(3);
    expect(messenger.server.receiptOutboxes.get("a")!.stats.failures).toBeGreaterThan(0);
    pgB = await startEmbeddedPostgres({ dataDir: path.join(scratch, "pg"), port: pgB.port, ephemeral: true });

    const bobInbox = inbox(bob);
    await bobInbox.count(3);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // later sweeps: nothing more, nothing twice
    expect(bobInbox.received.map((e) => e.messageId).sort()).toEqual([...sent].sort());
    expect(bobInbox.received.every((e) => e.type === 5 && e.senderAccountId === alice.accountId)).toBe(true);
    expect(await outbox()).toBe(0);
    aliceInbox.close();
    bobInbox.close();
  }, 60_000);

  it("the same owed receipts forwarded twice, racing and again later (a node killed after the forward committed): stored once", async () => {
    const alice = await accountOn("a");
    const bob = await accountOn("b");
    const sent = await sendMany(bob, alice, 4);
    const owed = sent.map((messageId, i) => ({
      outboxId: String(1_000_000 + i),
      to: { accountId: bob.accountId, deviceId: 1 },
      from: { accountId: alice.accountId, deviceId: 1 },
      messageId,
    }));
    const { writer } = messenger.server.services;
    // Two forwards at once (a sweep on one node, the forward after the commit on another), then a third.
    await Promise.all([writer.receipts(owed), writer.receipts(owed)]);
    await writer.receipts(owed.slice(1, 3));
    const [row] = await sqlB<{ n: number }[]>`select count(*)::int as n from envelopes where recipient_account_id = ${bob.accountId} and type = 5`;
    expect(row!.n).toBe(4);
    const bobInbox = inbox(bob);
    await bobInbox.count(4);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bobInbox.received.map((e) => e.messageId).sort()).toEqual([...sent].sort());
  });

  it("messages stored on B are counted on home through B's usage outbox: home unreachable from the storing node, that node gone, another node's sweep counts each once", async () => {
    const bob = await accountOn("b");
    const carol = await accountOn("b");
    const counted = async () =>
      (await sqlA<{ n: number }[]>`select coalesce(sum(messages_total), 0)::int as n from usage_counters where account_id = ${bob.accountId}`)[0]!.n;
    const owed = async () => (await sqlB<{ n: number }[]>`select count(*)::int as n from usage_outbox where sender_account_id = ${bob.accountId}`)[0]!.n;
    const until = async (check: () => Promise<boolean>, what: string) => {
      for (const end = Date.now() + 20_000; !(await check()); ) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    // A second node whose connections to home go through a proxy, and whose own sweep never comes round.
    const proxy = await PostgresFaultProxy.start(dbA.url);
    const viaProxy = parseShardMap({ ...shardMap, databases: { a: proxy.url(dbA.url), b: urlB } });
    const other = await startTestMessenger({ rateLimits: false, shardMap: viaProxy, outboxes: { sweepIntervalMs: 3_600_000 } });
    try {
      const bobThere = { ...bob, api: httpApi(other.url, bob.credential) };
      await sendOne(bobThere, carol); // counted at once (and bob's consent is in that node's cache now)
      await until(async () => (await counted()) === 1, "the first count");

      proxy.block();
      proxy.cutAll();
      await sendMany(bobThere, carol, 3); // stored on B; the counts are owed there, one row per batch
      expect(await owed()).toBe(3);
      expect(await counted()).toBe(1);
      // That node goes away with its forwards still waiting for home (what it had in memory with it).
      await other.close();
      expect(other.server.usageOutboxes.get("b")!.stats.forwarded).toBe(1);

      // This node's sweep of B (every 200 ms here) adds them on home: once.
      await until(async () => (await owed()) === 0, "the sweep");
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await counted()).toBe(4);
    } finally {
      await other.close();
      await proxy.close();
    }
  }, 60_000);

  it("the same owed usage rows delivered twice, racing and again later: counted once", async () => {
    const bob = await accountOn("b");
    const counted = async () =>
      (await sqlA<{ n: number }[]>`select coalesce(sum(messages_total), 0)::int as n from usage_counters where account_id = ${bob.accountId}`)[0]!.n;
    const at = messenger.server.services.clock.now();
    const rows = [
      { outboxId: "9000001", accountId: bob.accountId, messages: 2, at },
      { outboxId: "9000002", accountId: bob.accountId, messages: 5, at },
    ];
    const outbox = messenger.server.usageOutboxes.get("b")!;
    const before = outbox.stats.forwarded;
    outbox.forward(rows);
    outbox.forward(rows);
    for (const end = Date.now() + 10_000; outbox.stats.forwarded < before + 4 && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 20));
    outbox.forward(rows.slice(1));
    for (const end = Date.now() + 10_000; outbox.stats.forwarded < before + 5 && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(outbox.stats.forwarded).toBe(before + 5);
    expect(await counted()).toBe(7);
  });

  it("shard B's server restarted while messages flow: shard A keeps delivering, B recovers, nothing acknowledged is lost or doubled", async () => {
    const alice = await accountOn("a");
    const carol = await accountOn("b");
    const onA = await accountOn("a");
    const onB = await accountOn("b");
    const inboxA = inbox(onA);
    const inboxB = inbox(onB);
    await Promise.all([inboxA.ready, inboxB.ready]);

    let failures = 0;
    /** Sends `n`, one after another; a send that fails is retried with the same message id until it is acknowledged. */
    const flow = async (from: TestAccount, to: TestAccount, n: number) => {
      const acked: string[] = [];
      for (let i = 0; i < n; i++) {
        const messageId = randomUUID();
        for (;;) {
          try {
            await sendOne(from, to, messageId);
            break;
          } catch {
            failures += 1;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
        acked.push(messageId);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return acked;
    };
    const flows = Promise.all([flow(alice, onA, 80), flow(carol, onA, 40), flow(alice, onB, 80), flow(carol, onB, 40)]);
    await inboxB.count(10);
    await pgB.stop();
    const deliveredToABefore = inboxA.received.length;
    const deliveredToBBefore = inboxB.received.length;
    // While B is down, A's recipient keeps receiving (its senders' flows go on), and sends
    // to B fail (waited for: a send may first wait out its connection attempt to B).
    await inboxA.count(deliveredToABefore + 15, 20_000);
    for (const until = Date.now() + 30_000; failures === 0 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 100));
    pgB = await startEmbeddedPostgres({ dataDir: path.join(scratch, "pg"), port: pgB.port, ephemeral: true });
    const [aliceToA, carolToA, aliceToB, carolToB] = await flows;
    expect(failures).toBeGreaterThan(0); // sends to B failed while it was down and were retried

    await inboxA.count(120);
    await inboxB.count(120);
    await new Promise((resolve) => setTimeout(resolve, 300)); // let a duplicate show itself
    for (const [box, fromAlice, fromCarol] of [
      [inboxA, aliceToA, carolToA],
      [inboxB, aliceToB, carolToB],
    ] as const) {
      expect(box.received).toHaveLength(120);
      expect(ascending(box.received)).toBe(true);
      expect(box.received.filter((e) => e.senderAccountId === alice.accountId).map((e) => e.messageId)).toEqual(fromAlice);
      expect(box.received.filter((e) => e.senderAccountId === carol.accountId).map((e) => e.messageId)).toEqual(fromCarol);
    }
    expect(deliveredToBBefore).toBeLessThan(120);
    inboxA.close();
    inboxB.close();
  }, 90_000);
});
