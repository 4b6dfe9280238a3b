/**
 * Several messenger nodes as real processes, a real nats-server, real PostgreSQL
 * and real SDK devices (libsignal sessions): delivery across nodes, a node
 * SIGKILLed under its connected devices, and NATS restarted under traffic.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HandshakeDevice, type ReceivedMessage } from "@handshake/client";
import { freePort } from "@handshake/db/embedded";
import { createTestDatabase, type TestDatabase } from "@handshake/db/testing";
import { startNatsServer, type RunningNatsServer } from "@handshake/nats-server";
import { health, startCluster, startNode, type NodeProcess } from "./messenger-nodes";

let database: TestDatabase;
let nats: RunningNatsServer;
const started: NodeProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase("messenger");
  nats = await startNatsServer({ port: await freePort() }); // restarted on the same port below
});
afterAll(async () => {
  for (const node of started) await node.stop();
  await nats?.stop();
  await database?.drop();
});

let phoneCounter = 0;
const nextPhone = () => `+4915127${String(100000 + phoneCounter++).padStart(6, "0")}`;

const register = (node: NodeProcess) => HandshakeDevice.register({ url: node.url, phoneNumber: nextPhone() });

async function node(nodeId: string, port?: number) {
  const running = await startNode({ port: port ?? (await freePort()), databaseUrl: database.url, natsUrl: nats.url, nodeId });
  started.push(running);
  return running;
}

/** The next `n` messages, or a failure naming what did not come. */
async function take(device: HandshakeDevice, n: number, timeoutMs = 20_000): Promise<ReceivedMessage[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} messages at ${device.accountId}`)), timeoutMs);
  });
  try {
    return await Promise.race([device.take(n), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends with retries under the same message id (idempotent) until the server acknowledges. */
async function sendAcknowledged(from: HandshakeDevice, to: HandshakeDevice, text: string, messageId: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await from.send(to.accountId, text, { messageId });
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe("two nodes, as on two machines (NODE_ID, NATS_URL, one database)", () => {
  it("a device on node A messages a device on node B live; offline while B is down, then resumed after lastEventId", async () => {
    const a = await node("machine-a");
    const b = await node("machine-b");
    const alice = await register(a);
    const bob = await register(b);
    await Promise.all([alice.connect(), bob.connect()]);

    const live = ["one", "two", "three"];
    for (const text of live) await alice.send(bob.accountId, text);
    expect((await take(bob, 3)).map((m) => m.text)).toEqual(live);
    expect((await health(b.port))!.connectedDevices).toBe(1);

    // Node B dies under bob; alice keeps writing through A while bob is offline.
    await b.kill();
    const offline = ["four", "five", "six"];
    for (const text of offline) await alice.send(bob.accountId, text);
    // B comes back on its port; bob's client reconnects and resumes after its last envelope.
    started.push(await node("machine-b", b.port));
    expect((await take(bob, 3)).map((m) => m.text)).toEqual(offline);
    const after = "seven";
    await alice.send(bob.accountId, after);
    expect((await take(bob, 1))[0]!.text).toBe(after);
    expect(decryptFailures(bob)).toEqual([]);
    await Promise.all([alice.close(), bob.close()]);
  }, 120_000);

  it("NATS restarted under traffic: delivery continues through the database fallback, nothing lost or twice", async () => {
    const a = await node("nats-a");
    const b = await node("nats-b");
    const alice = await register(a);
    const bob = await register(b);
    await bob.connect();
    const texts: string[] = [];
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const text = `m${texts.length}`;
        texts.push(text);
        await alice.send(bob.accountId, text);
      }
    };
    const got: string[] = [];
    await send(5);
    got.push(...(await take(bob, 5)).map((m) => m.text));
    await nats.kill();
    await send(5);
    // No wake-up crosses while NATS is down; bob's node reads them from the database.
    got.push(...(await take(bob, 5)).map((m) => m.text));
    nats = await startNatsServer({ port: nats.port });
    await send(5);
    got.push(...(await take(bob, 5)).map((m) => m.text));
    expect(got).toEqual(texts);
    // A duplicate (say, from the re-read after reconnecting) would show up now.
    expect(await collectLater(bob, 1_000)).toEqual([]);
    expect(decryptFailures(bob)).toEqual([]);
    await bob.close();
  }, 120_000);
});

describe("one address, several nodes (cluster.ts: workers share the port)", () => {
  it("a node SIGKILLed while its devices are connected: they reconnect to the other node and lose nothing", async () => {
    const port = await freePort();
    const cluster = await startCluster({ port, databaseUrl: database.url, natsUrl: nats.url, nodes: 2 });
    started.push(cluster);
    const devices = await Promise.all(Array.from({ length: 8 }, () => register(cluster)));
    await Promise.all(devices.map((d) => d.connect()));
    // The primary hands connections to the workers in turn: both hold devices.
    const holders = await workerCounts(port, 2);
    expect([...holders.values()].reduce((s, n) => s + n, 0)).toBe(8);
    const victim = [...holders.entries()].sort((x, y) => y[1] - x[1])[0]![0];

    // Each device sends to the next, 30 messages each, while a worker is killed mid-way.
    const sent = new Map<string, string[]>();
    const traffic = devices.map(async (from, i) => {
      const to = devices[(i + 1) % devices.length]!;
      const texts: string[] = [];
      sent.set(to.accountId, texts);
      for (let n = 0; n < 30; n++) {
        const text = `${i}->${n}`;
        await sendAcknowledged(from, to, text, randomUUID());
        texts.push(text);
      }
    });
    const acknowledged = () => [...sent.values()].reduce((n, texts) => n + texts.length, 0);
    // Kill once some traffic has gone through, whatever the machine's speed.
    while (acknowledged() < 40) await new Promise((resolve) => setTimeout(resolve, 10));
    process.kill(victim, "SIGKILL");
    const sentAtKill = acknowledged();
    await Promise.all(traffic);
    // The kill landed mid-traffic, and the killed worker held devices that had to move.
    expect(sentAtKill).toBeGreaterThan(0);
    expect(sentAtKill).toBeLessThan(8 * 30);
    expect(holders.get(victim)).toBeGreaterThan(0);

    for (const device of devices) {
      const expected = sent.get(device.accountId)!;
      const got = await take(device, expected.length, 30_000);
      expect(got.map((m) => m.text)).toEqual(expected);
    }
    // Nothing more arrives (no duplicates), and no envelope failed to decrypt.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const device of devices) {
      expect(await collectLater(device, 0)).toEqual([]);
      expect(decryptFailures(device)).toEqual([]);
    }
    await Promise.all(devices.map((d) => d.close()));
  }, 180_000);
});

/**
 * Envelopes that did not decrypt. Not counted: the stream and acks that failed because
 * the socket died under them (an unacked envelope stays queued; it is not lost).
 */
const decryptFailures = (device: HandshakeDevice) => device.failures.filter((f) => f.error.name !== "TRPCClientError");

/** Messages already waiting at `device` (without blocking beyond `waitMs`). */
async function collectLater(device: HandshakeDevice, waitMs: number): Promise<string[]> {
  const out: string[] = [];
  const iterator = device.messages()[Symbol.asyncIterator]();
  for (;;) {
    const next = await Promise.race([iterator.next(), new Promise<null>((resolve) => setTimeout(() => resolve(null), waitMs + 50))]);
    if (!next || next.done) return out;
    out.push(next.value.text);
  }
}

/** Devices per worker pid, polling /healthz until `workers` pids answered. */
async function workerCounts(port: number, workers: number): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (let i = 0; i < 200 && counts.size < workers; i++) {
    const h = await health(port);
    if (h) counts.set(h.pid, h.connectedDevices);
  }
  return counts;
}
