/**
 * Frame coalescing (socket-budget.ts): the frames one event-loop turn produces for
 * a socket leave in one write. Real server, real PostgreSQL, a raw WebSocket client
 * speaking tRPC's protocol, so every frame is seen as it arrives.
 */
import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMessenger, type TestMessenger } from "../testing";
import { registerAccount, type TestAccount } from "../../test/helpers";

let messenger: TestMessenger;
beforeAll(async () => {
  messenger = await startTestMessenger({ rateLimits: false });
});
afterAll(async () => {
  await messenger?.close();
});

interface Frame {
  id: number | null;
  result?: { type: string; id?: string; data?: { id: string; data: { id: string; messageId: string; type: number } } };
  error?: { message: string };
}

/** A raw tRPC WebSocket client subscribed to its inbox (id 1), optionally after `lastEventId`. */
async function subscribed(account: TestAccount, lastEventId?: string) {
  const ws = new WebSocket(`${messenger.wsUrl}?connectionParams=1`, { perMessageDeflate: false });
  const frames: Frame[] = [];
  let check: (() => void) | null = null;
  ws.on("message", (raw) => {
    const text = raw.toString();
    if (text === "PING") return void ws.send("PONG");
    frames.push(JSON.parse(text) as Frame);
    check?.();
  });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  ws.send(JSON.stringify({ method: "connectionParams", data: { token: account.credential } }));
  ws.send(JSON.stringify({ id: 1, method: "subscription", params: { path: "inbox.stream", input: lastEventId ? { lastEventId } : {} } }));
  const until = (done: () => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 15_000);
      check = () => {
        if (!done()) return;
        clearTimeout(timer);
        check = null;
        resolve();
      };
      check();
    });
  const envelopes = () => frames.filter((f) => f.id === 1 && f.result?.type === "data").map((f) => f.result!.data!.data);
  await until(() => frames.some((f) => f.id === 1 && f.result?.type === "started"), "the stream to start");
  return { ws, frames, until, envelopes };
}

/** `count` sends from `from` to `to`, all at once: they share a group commit, so one turn wakes the stream for many. */
async function burst(from: TestAccount, to: TestAccount, count: number): Promise<string[]> {
  const { writer } = messenger.server.services;
  const ids = Array.from({ length: count }, () => randomUUID());
  await Promise.all(
    ids.map((messageId, i) =>
      writer.send({
        sender: { accountId: from.accountId, deviceId: 1 },
        recipient: { accountId: to.accountId, deviceId: 1 },
        messageId,
        type: 1,
        content: Buffer.from(`opaque ${i}`),
        category: null,
      }),
    ),
  );
  return ids;
}

const queued = async (account: TestAccount) => {
  const [row] = await messenger.server.services.sql<{ n: number }[]>`
    select count(*)::int as n from envelopes where recipient_account_id = ${account.accountId} and type = 1`;
  return row!.n;
};

describe("frame coalescing", () => {
  it("a burst arrives as separate frames, in id order, each once, and fewer writes than frames; every one can be acknowledged", async () => {
    const alice = await registerAccount(messenger.url);
    const bob = await registerAccount(messenger.url);
    // Count the writes on the server's side of Bob's TCP socket (one writev per corked turn, one per frame otherwise).
    let writes = 0;
    messenger.server.wss.once("connection", (socket: WebSocket) => {
      const tcp = (socket as unknown as { _socket: Socket & { _write: (...args: unknown[]) => unknown; _writev: (...args: unknown[]) => unknown } })._socket;
      for (const method of ["_write", "_writev"] as const) {
        const original = tcp[method].bind(tcp) as (...args: unknown[]) => unknown;
        tcp[method] = (...args: unknown[]) => {
          writes += 1;
          return original(...args);
        };
      }
    });
    const bobSocket = await subscribed(bob);
    const { coalescing } = messenger.server.services.socketBudget;
    const before = { ...coalescing };
    const writesBefore = writes;
    const sent = await burst(alice, bob, 300);
    await bobSocket.until(() => bobSocket.envelopes().length >= 300, "300 envelopes");
    const got = bobSocket.envelopes();
    expect(got.map((e) => e.messageId)).toEqual(sent);
    const ids = got.map((e) => BigInt(e.id));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
    // The frames of a turn shared a write: far fewer writes than frames went out.
    const frames = coalescing.frames - before.frames;
    expect(frames).toBeGreaterThanOrEqual(300);
    expect(writes - writesBefore).toBeGreaterThan(0);
    expect(writes - writesBefore).toBeLessThan(frames / 5);
    expect(coalescing.flushes - before.flushes).toBeLessThan(frames / 5);

    // Acknowledge in batches sent in one go (several acks in flight at once): each id once.
    const envelopeIds = got.map((e) => e.id);
    for (let i = 0; i < 3; i++) {
      bobSocket.ws.send(
        JSON.stringify({ id: 100 + i, method: "mutation", params: { path: "inbox.ack", input: { ids: envelopeIds.slice(i * 100, (i + 1) * 100) } } }),
      );
    }
    await bobSocket.until(() => [100, 101, 102].every((id) => bobSocket.frames.some((f) => f.id === id)), "three ack replies");
    const acknowledged = [100, 101, 102].map((id) => (bobSocket.frames.find((f) => f.id === id)!.result?.data as unknown as { acknowledged: number }).acknowledged);
    expect(acknowledged).toEqual([100, 100, 100]);
    expect(await queued(bob)).toBe(0);
    bobSocket.ws.close();
  });

  it("a socket killed in the middle of a burst loses nothing: the rest arrives after lastEventId on the next socket", async () => {
    const alice = await registerAccount(messenger.url);
    const bob = await registerAccount(messenger.url);
    const first = await subscribed(bob);
    const COUNT = 2_000;
    // Kill the client's socket as soon as some (not all) of the burst arrived, from inside its frame handler.
    let killedAfter = 0;
    first.ws.on("message", () => {
      const n = first.envelopes().length;
      if (killedAfter === 0 && n >= 50) {
        killedAfter = n;
        first.ws.terminate();
      }
    });
    const sent = await burst(alice, bob, COUNT);
    await new Promise<void>((resolve) => (first.ws.readyState === WebSocket.CLOSED ? resolve() : first.ws.once("close", () => resolve())));
    const before = first.envelopes().slice(0, killedAfter);
    expect(before.length).toBeGreaterThanOrEqual(50);
    expect(before.length).toBeLessThan(COUNT);
    // The rest, on a new socket, after the last envelope the client saw.
    const second = await subscribed(bob, before.at(-1)!.id);
    await second.until(() => second.envelopes().length >= COUNT - before.length, "the rest of the burst");
    const all = [...before, ...second.envelopes()];
    expect(all.map((e) => e.messageId)).toEqual(sent);
    // Nothing was acknowledged, so the queue still holds them all for a client that resumes from zero.
    expect(await queued(bob)).toBe(COUNT);
    second.ws.close();
  });
});
