/**
 * Two messenger nodes in this process on one database and a real nats-server:
 * delivery across nodes, resume, presence, and the database fallback when NATS
 * is away. (Separate processes, SIGKILL and the SDK: tooling/e2e/src/cross-node.test.ts.)
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveredEnvelope } from "@handshake/crypto/wire";
import { startNatsServer, type RunningNatsServer } from "@handshake/nats-server";
import { freePort } from "@handshake/db/embedded";
import { startTestMessenger, type TestMessenger } from "../testing";
import { openInbox as inbox, registerAccount, sendOpaque, type TestAccount } from "../../test/helpers";
import type { NatsInboxBus } from "./nats-bus";
import { DISPLACED_CLOSE_CODE } from "./presence";

let nats: RunningNatsServer;
let a: TestMessenger;
let b: TestMessenger;
/** Like B, but sweeps every 200 ms: the database fallback tests use it. */
let d: TestMessenger;

beforeAll(async () => {
  nats = await startNatsServer({ port: await freePort() }); // restarted on the same port below
  // A and B sweep once a minute, so what they deliver within a test came through NATS.
  a = await startTestMessenger({ rateLimits: false, nats: { url: nats.url, nodeId: "node-a", sweepIntervalMs: 60_000 } });
  b = await startTestMessenger({
    rateLimits: false,
    databaseUrl: a.databaseUrl,
    nats: { url: nats.url, nodeId: "node-b", sweepIntervalMs: 60_000 },
  });
  d = await startTestMessenger({
    rateLimits: false,
    databaseUrl: a.databaseUrl,
    nats: { url: nats.url, nodeId: "node-d", sweepIntervalMs: 200 },
  });
});
afterAll(async () => {
  await d?.close();
  await b?.close();
  await a?.close();
  await nats?.stop();
});

const busOf = (node: TestMessenger) => node.server.services.bus as NatsInboxBus;


const ascending = (envelopes: DeliveredEnvelope[]) => {
  const ids = envelopes.map((e) => BigInt(e.id));
  return ids.every((id, i) => i === 0 || id > ids[i - 1]!);
};

describe("NATS bus between two nodes", () => {
  it("a device on node A messages a device connected to node B: delivered live, in order", async () => {
    const alice = await registerAccount(a.url);
    const bob = await registerAccount(b.url);
    const bobInbox = inbox(b.url, bob);
    await bobInbox.ready;
    const before = { ...busOf(b).stats };
    const sent = await sendOpaque(alice, bob, 5);
    await bobInbox.count(5);
    expect(bobInbox.received.map((e) => e.messageId)).toEqual(sent);
    // It came through NATS, whole: node B got the envelopes themselves (no wake-up to
    // re-read the database), and node A holds no stream for bob.
    expect(busOf(b).stats.carried - before.carried).toBe(5);
    expect(busOf(b).stats.wakeups).toBe(before.wakeups);
    expect(busOf(a).holds(bob)).toBe(false);
    bobInbox.close();
  });

  it("offline, then resumed on the other node after lastEventId: nothing lost, nothing twice", async () => {
    const alice = await registerAccount(a.url);
    const bob = await registerAccount(a.url);
    const first = await sendOpaque(alice, bob, 4);
    const onB = inbox(b.url, bob);
    await onB.count(4);
    expect(onB.received.map((e) => e.messageId)).toEqual(first);
    const last = onB.received.at(-1)!.id;
    onB.close();
    const second = await sendOpaque(alice, bob, 3);
    // Nothing was acknowledged: a resume that ignored lastEventId would repeat the first four.
    const onA = inbox(a.url, bob, last);
    await onA.count(3);
    const third = await sendOpaque(alice, bob, 1);
    await onA.count(4);
    expect(onA.received.map((e) => e.messageId)).toEqual([...second, ...third]);
    onA.close();
  });

  it("senders on both nodes at once: the recipient gets every envelope once, ids ascending (wake-ups may cross)", async () => {
    const alice = await registerAccount(a.url);
    const carol = await registerAccount(b.url);
    const bob = await registerAccount(a.url);
    const bobInbox = inbox(b.url, bob);
    await bobInbox.ready;
    const [fromAlice, fromCarol] = await Promise.all([
      Promise.all(Array.from({ length: 60 }, () => sendOne(alice, bob))),
      Promise.all(Array.from({ length: 60 }, () => sendOne(carol, bob))),
    ]);
    await bobInbox.count(120);
    const got = bobInbox.received.map((e) => e.messageId);
    expect(new Set(got).size).toBe(120);
    expect(new Set(got)).toEqual(new Set([...fromAlice, ...fromCarol]));
    expect(ascending(bobInbox.received)).toBe(true);
    bobInbox.close();
  });

  it("a newer stream of a device on another node displaces the older as one on the same node does (4409), which then gets nothing", async () => {
    const alice = await registerAccount(a.url);
    const bob = await registerAccount(a.url);
    const older = inbox(a.url, bob);
    await older.ready;
    const newer = inbox(b.url, bob);
    await newer.ready;
    expect(await older.closed()).toBe(DISPLACED_CLOSE_CODE);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(busOf(a).holds(bob)).toBe(false);
    const sent = await sendOpaque(alice, bob, 2);
    await newer.count(2);
    expect(newer.received.map((e) => e.messageId)).toEqual(sent);
    expect(older.received).toHaveLength(0);
    expect(newer.errors).toHaveLength(0);
    older.close();
    newer.close();
  });
});

/** Intercepts what node `node`'s bus receives from NATS (the raw bytes of each message). */
type Intercepted = { t: string; e?: { id: string } };
function interceptBus(node: TestMessenger, decide: (message: Intercepted, deliver: (instead?: Intercepted) => void) => void) {
  const bus = busOf(node) as unknown as { onMessage(key: string, data: Uint8Array): void };
  const original = bus.onMessage.bind(bus);
  bus.onMessage = (key, data) => {
    const message = JSON.parse(Buffer.from(data).toString("utf8")) as Intercepted;
    decide(message, (instead) => original(key, instead ? Buffer.from(JSON.stringify(instead)) : data));
  };
  return () => {
    bus.onMessage = original;
  };
}

describe("envelopes carried over NATS", () => {
  it("a lost bus message costs a re-read, never an envelope: the next one shows the gap and the stream reads the queue", async () => {
    const alice = await registerAccount(a.url);
    const bob = await registerAccount(b.url);
    const bobInbox = inbox(b.url, bob);
    await bobInbox.ready;
    let carriedSeen = 0;
    const restore = interceptBus(b, (message, deliver) => {
      if (message.t === "e" && ++carriedSeen === 1) return; // NATS core dropped the first one
      deliver();
    });
    try {
      const sent = await sendOpaque(alice, bob, 3);
      await bobInbox.count(3);
      await new Promise((resolve) => setTimeout(resolve, 200)); // a late duplicate would show now
      expect(bobInbox.received.map((e) => e.messageId)).toEqual(sent);
      expect(ascending(bobInbox.received)).toBe(true);
    } finally {
      restore();
      bobInbox.close();
    }
  });

  it("envelopes that overtake each other on the bus (two publishers) still arrive in id order, each once", async () => {
    const alice = await registerAccount(a.url);
    const bob = await registerAccount(b.url);
    const bobInbox = inbox(b.url, bob);
    await bobInbox.ready;
    // Hold back the carried envelopes, then hand them over newest first, each twice.
    const held: (() => void)[] = [];
    const restore = interceptBus(b, (message, deliver) => {
      if (message.t === "e") held.push(deliver);
      else deliver();
    });
    let sent: string[];
    try {
      sent = await sendOpaque(alice, bob, 4);
      // The bus may take a moment on a loaded machine: wait (bounded) until all four are held.
      for (let waited = 0; held.length < 4 && waited < 5_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(held.length).toBe(4);
      expect(bobInbox.received).toHaveLength(0);
      for (const deliver of [...held].reverse()) deliver();
      for (const deliver of held) deliver();
    } finally {
      restore();
    }
    await bobInbox.count(4);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bobInbox.received.map((e) => e.messageId)).toEqual(sent);
    bobInbox.close();
  });

  it("a malformed carried envelope is taken as a wake-up: the stream reads the queue", async () => {
    const alice = await registerAccount(a.url);
    const bob = await registerAccount(b.url);
    const bobInbox = inbox(b.url, bob);
    await bobInbox.ready;
    // Every carried envelope arrives mangled: without a usable id.
    const restore = interceptBus(b, (message, deliver) => deliver(message.t === "e" ? { ...message, e: { id: "not a number" } } : message));
    try {
      const wakeupsBefore = busOf(b).stats.wakeups;
      const sent = await sendOpaque(alice, bob, 2);
      await bobInbox.count(2);
      expect(bobInbox.received.map((e) => e.messageId)).toEqual(sent);
      expect(busOf(b).stats.wakeups).toBeGreaterThan(wakeupsBefore);
    } finally {
      restore();
      bobInbox.close();
    }
  });
});

describe("database fallback when NATS is away", () => {
  it("nats-server killed and restarted under traffic: delivery continues through the sweep, nothing lost or twice", async () => {
    const alice = await registerAccount(a.url);
    const bob = await registerAccount(d.url);
    const bobInbox = inbox(d.url, bob);
    await bobInbox.ready;
    const before = await sendOpaque(alice, bob, 3);
    await bobInbox.count(3);

    await nats.kill();
    // While NATS is down no wake-up crosses; node D's sweep reads them from the database.
    const during = await sendOpaque(alice, bob, 5);
    await bobInbox.count(8);
    nats = await startNatsServer({ port: nats.port });
    const after = await sendOpaque(alice, bob, 5);
    await bobInbox.count(13);
    // Let a late duplicate (a re-read after reconnecting) show itself.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(bobInbox.received.map((e) => e.messageId)).toEqual([...before, ...during, ...after]);
    bobInbox.close();
  });

  it("an envelope whose wake-up never reaches the recipient's node is delivered by the sweep", async () => {
    // Node C writes on a NATS that node D does not listen to: its wake-ups go nowhere,
    // as when a node dies between its commit and its publish.
    const elsewhere = await startNatsServer();
    const c = await startTestMessenger({
      rateLimits: false,
      databaseUrl: a.databaseUrl,
      nats: { url: elsewhere.url, nodeId: "node-c", sweepIntervalMs: 60_000 },
    });
    try {
      const alice = await registerAccount(c.url);
      const bob = await registerAccount(d.url);
      const bobInbox = inbox(d.url, bob);
      await bobInbox.ready;
      const sweptBefore = await sweepStats(d);
      const sent = await sendOpaque(alice, bob, 3);
      await bobInbox.count(3);
      expect(bobInbox.received.map((e) => e.messageId)).toEqual(sent);
      expect((await sweepStats(d)).woken).toBeGreaterThan(sweptBefore.woken);
      bobInbox.close();
    } finally {
      await c.close();
      await elsewhere.stop();
    }
  });
});

async function sendOne(from: TestAccount, to: TestAccount): Promise<string> {
  const messageId = randomUUID();
  await from.api.message.send.mutate({
    messageId,
    recipient: { accountId: to.accountId },
    type: 1,
    content: Buffer.from(`opaque ${messageId}`).toString("base64"),
  });
  return messageId;
}

async function sweepStats(node: TestMessenger) {
  const sweep = node.server.sweep;
  if (!sweep) throw new Error("node has no missed-delivery sweep");
  return { ...sweep.stats };
}
