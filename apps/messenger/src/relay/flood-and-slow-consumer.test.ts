/**
 * Defect 6 of issue 10: one socket opening thousands of inbox streams, a device
 * opening streams on several sockets, and a client that never reads. Real server
 * on port 0, real PostgreSQL, real WebSocket clients speaking tRPC's protocol.
 */
import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMessenger, type TestMessenger } from "../testing";
import { registerAccount, type TestAccount } from "../../test/helpers";
import { DISPLACED_CLOSE_CODE } from "./presence";

const BUDGET = 64 * 1024;
let messenger: TestMessenger;
beforeAll(async () => {
  messenger = await startTestMessenger({
    rateLimits: false,
    relay: {
      presence: { displaceGraceMs: 100 },
      socketBudget: { budgetBytes: BUDGET, graceMs: 300, checkMs: 50 },
    },
  });
});
afterAll(async () => {
  await messenger?.close();
});

interface Frame {
  id: number | null;
  result?: { type: string; id?: string; data?: { id: string; data: { messageId: string } } };
  error?: { message: string; data?: { code?: string } };
}

/** A raw tRPC WebSocket client: frames in, frames out, nothing hidden. */
async function rawSocket(account: TestAccount, server: TestMessenger = messenger) {
  const ws = new WebSocket(`${server.wsUrl}?connectionParams=1`, { perMessageDeflate: false });
  const frames: Frame[] = [];
  const waiting: { done: () => boolean; resolve: () => void }[] = [];
  ws.on("message", (raw) => {
    const text = raw.toString();
    if (text === "PING") return void ws.send("PONG");
    frames.push(JSON.parse(text) as Frame);
    for (const w of waiting.filter((w) => w.done())) w.resolve();
  });
  const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  ws.send(JSON.stringify({ method: "connectionParams", data: { token: account.credential } }));
  return {
    ws,
    frames,
    closed,
    send: (frame: unknown) => ws.send(JSON.stringify(frame)),
    until: (done: () => boolean) =>
      new Promise<void>((resolve) => (done() ? resolve() : waiting.push({ done, resolve }))),
    subscribe: (id: number) =>
      ws.send(JSON.stringify({ id, method: "subscription", params: { path: "inbox.stream", input: {} } })),
    dataFor: (id: number) => frames.filter((f) => f.id === id && f.result?.type === "data"),
  };
}

const sendOpaque = (from: TestAccount, to: TestAccount) =>
  from.api.message.send.mutate({
    messageId: randomUUID(),
    recipient: { accountId: to.accountId },
    type: 1,
    content: Buffer.from("opaque").toString("base64"),
  });

describe("a flood of inbox subscriptions on one socket", () => {
  // A server with the default byte budget (1 MiB): the 1,999 refusals (~700 KB) must not
  // meet the 64 KB budget the slow-consumer test needs, which closed this socket whenever
  // the client, sharing the CPU, read them more than 300 ms late (seen under load).
  let flooded: TestMessenger;
  beforeAll(async () => {
    flooded = await startTestMessenger({ rateLimits: false });
  });
  afterAll(async () => {
    await flooded?.close();
  });

  it("is refused with a clear error past the first, costs no database work, and the socket keeps working", async () => {
    const messenger = flooded;
    const alice = await registerAccount(messenger.url);
    const bob = await registerAccount(messenger.url);
    const socket = await rawSocket(bob, messenger);
    const connectedBefore = messenger.logLines.filter((l) => l.includes('"inbox connected"')).length;
    const FLOOD = 2_000;
    for (let id = 1; id <= FLOOD; id++) socket.subscribe(id);
    const answered = () => {
      const ids = new Set(socket.frames.filter((f) => f.error || f.result?.type === "started").map((f) => f.id));
      return ids.size >= FLOOD;
    };
    await socket.until(answered);
    const refusals = socket.frames.filter((f) => f.error);
    expect(refusals.length).toBe(FLOOD - 1);
    expect(refusals[0]!.error!.data?.code).toBe("TOO_MANY_REQUESTS");
    expect(refusals[0]!.error!.message).toMatch(/already has 1 open inbox stream/);
    const live = socket.frames.find((f) => f.result?.type === "started")!.id!;
    // Only the one accepted stream touched the database.
    expect(messenger.logLines.filter((l) => l.includes('"inbox connected"')).length - connectedBefore).toBe(1);

    // The socket still serves calls, and a message goes down it once, not once per subscription.
    socket.send({ id: 9_999, method: "query", params: { path: "keys.count", input: undefined } });
    await socket.until(() => socket.frames.some((f) => f.id === 9_999));
    expect(socket.frames.find((f) => f.id === 9_999)!.result?.type).toBe("data");
    await sendOpaque(alice, bob);
    await socket.until(() => socket.dataFor(live).length === 1);
    await sendOpaque(alice, bob); // a second one shows whether the first came twice
    await socket.until(() => socket.dataFor(live).length === 2);
    expect(socket.frames.filter((f) => f.result?.type === "data" && f.id !== 9_999).length).toBe(2);

    // Stopping the stream frees the slot for a new one on the same socket.
    socket.send({ id: live, method: "subscription.stop" });
    await socket.until(() => socket.frames.some((f) => f.id === live && f.result?.type === "stopped"));
    socket.subscribe(20_000);
    await socket.until(() => socket.frames.some((f) => f.id === 20_000 && (f.result?.type === "started" || f.error)));
    expect(socket.frames.find((f) => f.id === 20_000)!.result?.type).toBe("started");
    await socket.until(() => socket.dataFor(20_000).length === 2); // the unacknowledged backlog, once
    socket.ws.close();
  });
});

describe("one device, streams on two sockets", () => {
  it("the newer displaces the older: the older gets nothing more and is closed with 4409", async () => {
    const alice = await registerAccount(messenger.url);
    const bob = await registerAccount(messenger.url);
    const older = await rawSocket(bob);
    older.subscribe(1);
    await older.until(() => older.frames.some((f) => f.id === 1 && f.result?.type === "started"));
    await sendOpaque(alice, bob);
    await older.until(() => older.dataFor(1).length === 1);

    const newer = await rawSocket(bob);
    newer.subscribe(1);
    await newer.until(() => newer.dataFor(1).length === 1); // its backlog: the unacknowledged first message
    expect(await older.closed).toBe(DISPLACED_CLOSE_CODE);
    await sendOpaque(alice, bob);
    await newer.until(() => newer.dataFor(1).length === 2);
    expect(older.dataFor(1).length).toBe(1);
    expect(messenger.server.services.presence.openStreams()).toBeGreaterThanOrEqual(1);
    newer.ws.close();
  });
});

describe("a client that never reads", () => {
  it("is closed once its socket stays over the byte budget; server-side buffering stays within the budget", async () => {
    const alice = await registerAccount(messenger.url);
    const bob = await registerAccount(messenger.url);
    // Watch the server's side of Bob's socket: the most it ever held unsent.
    const LIMIT = BUDGET + 80 * 1024; // the budget plus one frame (a 48 KiB envelope in base64)
    let peak = 0;
    let serverSide: WebSocket | null = null;
    let overflowed!: () => void;
    const overflow = new Promise<"overflowed">((resolve) => (overflowed = () => resolve("overflowed")));
    const serverClosed = new Promise<"closed">((resolve) => {
      messenger.server.wss.once("connection", (socket: WebSocket) => {
        serverSide = socket;
        const send = socket.send.bind(socket) as (...args: unknown[]) => void;
        socket.send = ((...args: unknown[]) => {
          send(...args);
          peak = Math.max(peak, socket.bufferedAmount);
          if (peak > LIMIT) overflowed();
        }) as WebSocket["send"];
        socket.once("close", () => resolve("closed"));
      });
    });
    const client = await rawSocket(bob);
    client.subscribe(1);
    await client.until(() => client.frames.some((f) => f.id === 1 && f.result?.type === "started"));
    // Stop reading: the kernel buffers fill, then the server's.
    (client.ws as unknown as { _socket: Socket })._socket.pause();

    const { writer, socketBudget } = messenger.server.services;
    const closedBefore = socketBudget?.closedSlowConsumers ?? 0;
    const content = Buffer.alloc(48 * 1024, 7);
    const COUNT = 400; // ~26 MB of frames, far more than loopback's socket buffers
    await Promise.all(
      Array.from({ length: COUNT }, () =>
        writer.send({
          sender: { accountId: alice.accountId, deviceId: 1 },
          recipient: { accountId: bob.accountId, deviceId: 1 },
          messageId: randomUUID(),
          type: 1,
          content,
          category: null,
        }),
      ),
    );
    // The server closes the socket before it ever holds more than the budget and a frame.
    expect(await Promise.race([serverClosed, overflow])).toBe("closed");
    expect(serverSide).not.toBeNull();
    expect(peak).toBeLessThan(LIMIT);
    expect(socketBudget.closedSlowConsumers).toBe(closedBefore + 1);
    // Nothing was lost: the queue still holds every envelope for the next connection.
    const [queued] = await messenger.server.services.sql<{ n: number }[]>`
      select count(*)::int as n from envelopes where recipient_account_id = ${bob.accountId}`;
    expect(queued!.n).toBe(COUNT);
    client.ws.terminate();
  });
});
