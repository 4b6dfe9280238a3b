/**
 * Issue 11, item 7: "two shard databases, one restarted". Two messenger nodes as
 * real processes on one shard map over two real PostgreSQL servers (the run's,
 * shards 0..4999 and home; a second embedded one, shards 5000..9999), a real
 * nats-server and real SDK devices (libsignal sessions). Devices on both shards
 * are spread over both nodes; shard B's server is stopped and started again
 * while every pair keeps sending.
 */
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HandshakeDevice } from "@handshake/client";
import { ensureDatabase, freePort, startEmbeddedPostgres, type RunningPostgres } from "@handshake/db/embedded";
import { createTestDatabase, type TestDatabase } from "@handshake/db/testing";
import { startNatsServer, type RunningNatsServer } from "@handshake/nats-server";
import { startNode, type NodeProcess } from "./messenger-nodes";

let scratch: string;
let pgB: RunningPostgres;
let home: TestDatabase;
let nats: RunningNatsServer;
const nodes: NodeProcess[] = [];
const devices: HandshakeDevice[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "handshake-e2e-shards-"));
  await chmod(scratch, 0o755);
  pgB = await startEmbeddedPostgres({ dataDir: path.join(scratch, "pg"), ephemeral: true });
  const urlB = await ensureDatabase(pgB.url, "shard_b");
  home = await createTestDatabase("messenger");
  nats = await startNatsServer();
  const mapFile = path.join(scratch, "shard-map.json");
  const map = {
    version: 1,
    shardCount: 10_000,
    databases: { a: home.url, b: urlB },
    ranges: [
      { from: 0, to: 4_999, database: "a" },
      { from: 5_000, to: 9_999, database: "b" },
    ],
  };
  await writeFile(mapFile, JSON.stringify(map), { mode: 0o600 });
  for (const nodeId of ["shard-node-1", "shard-node-2"]) {
    nodes.push(await startNode({ port: await freePort(), databaseUrl: home.url, natsUrl: nats.url, nodeId, shardMap: mapFile }));
  }
}, 180_000);
afterAll(async () => {
  await Promise.all(devices.map((d) => d.close().catch(() => undefined)));
  for (const node of nodes) await node.stop();
  await nats?.stop();
  await home?.drop();
  await pgB?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

let phoneCounter = 0;
const nextPhone = () => `+4915128${String(100000 + phoneCounter++).padStart(6, "0")}`;
/** The shard the messenger put in the account id (its first 24 bits). */
const shardOf = (device: HandshakeDevice) => Number.parseInt(device.accountId.slice(0, 6), 16);

/** Registers devices on alternating nodes until there are `perShard` on each shard database. */
async function devicesOnBothShards(perShard: number) {
  const a: HandshakeDevice[] = [];
  const b: HandshakeDevice[] = [];
  for (let i = 0; a.length < perShard || b.length < perShard; i++) {
    const device = await HandshakeDevice.register({ url: nodes[i % 2]!.url, phoneNumber: nextPhone() });
    devices.push(device);
    const list = shardOf(device) < 5_000 ? a : b;
    if (list.length < perShard) list.push(device);
    else await device.close();
  }
  return { a, b };
}

async function within(timeoutMs: number, what: string, work: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  try {
    await Promise.race([work(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe("two nodes on a shard map over two PostgreSQL servers", () => {
  it("shard B's server restarted while every pair sends: A's recipients keep receiving, B's recover, nothing lost or twice", async () => {
    const { a, b } = await devicesOnBothShards(2);
    // Each recipient is connected to some node; senders of both shards write to it.
    const pairs = [
      { from: a[0]!, to: b[0]! },
      { from: b[1]!, to: a[1]! },
      { from: a[0]!, to: a[1]! },
      { from: b[1]!, to: b[0]! },
    ];
    for (const device of [a[1]!, b[0]!]) await device.connect();

    const PER_PAIR = 30;
    const received = new Map<HandshakeDevice, string[]>([
      [a[1]!, []],
      [b[0]!, []],
    ]);
    // Collected one by one, so the test can watch progress during the outage.
    const receiving = [...received].map(([device, texts]) =>
      within(120_000, `${2 * PER_PAIR} messages at ${device.accountId}`, async () => {
        for await (const message of device.messages()) {
          texts.push(message.text);
          if (texts.length >= 2 * PER_PAIR) break;
        }
      }),
    );
    const flow = async (pair: (typeof pairs)[number], index: number) => {
      for (let i = 0; i < PER_PAIR; i++) {
        const messageId = randomUUID();
        for (;;) {
          try {
            await pair.from.send(pair.to.accountId, `p${index}-m${i}`, { messageId });
            break;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    };
    const flows = Promise.all(pairs.map(flow));
    // Once traffic flows, shard B's PostgreSQL goes away and comes back on its port.
    await within(60_000, "traffic to shard B", async () => {
      while (received.get(b[0]!)!.length < 5) await new Promise((resolve) => setTimeout(resolve, 50));
    });
    await pgB.stop();
    const toABeforeRestart = received.get(a[1]!)!.length;
    const downSince = Date.now();
    // A's recipient keeps receiving from shard A's sender while B is down.
    while (received.get(a[1]!)!.length < toABeforeRestart + 5 && Date.now() - downSince < 30_000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const toADuringOutage = received.get(a[1]!)!.length - toABeforeRestart;
    pgB = await startEmbeddedPostgres({ dataDir: path.join(scratch, "pg"), port: pgB.port, ephemeral: true });
    await flows;
    await Promise.all(receiving);

    expect(toADuringOutage).toBeGreaterThanOrEqual(5);
    // The outage was real: writes to shard B failed on the nodes (the SDK retries those
    // sends itself under the same message id, so the flows rarely see a failure).
    expect(nodes.some((node) => node.output.join("").includes('"queue write failed"'))).toBe(true);
    const expected = (index: number) => Array.from({ length: PER_PAIR }, (_, i) => `p${index}-m${i}`);
    for (const [device, texts] of received) {
      // Two senders each; each sender's messages in its order, every one once.
      const indexes = pairs.flatMap((p, i) => (p.to === device ? [i] : []));
      for (const index of indexes) expect(texts.filter((t) => t.startsWith(`p${index}-`))).toEqual(expected(index));
      expect(texts).toHaveLength(2 * PER_PAIR);
      expect(device.failures.filter((f) => f.error.name !== "TRPCClientError")).toEqual([]);
    }
  }, 240_000);
});
