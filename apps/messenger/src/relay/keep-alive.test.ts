/**
 * The shared keep-alive (relay/keep-alive.ts) on a real messenger: an idle
 * subscribed client that answers PINGs stays connected through many ping
 * intervals and still receives; one that stops answering is terminated.
 * Real server on port 0, real PostgreSQL, raw WebSocket clients (tRPC's protocol).
 */
import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMessenger, type TestMessenger } from "../testing";
import { registerAccount, type TestAccount } from "../../test/helpers";

const PING_MS = 300;
const PONG_WAIT_MS = 200;
let messenger: TestMessenger;
beforeAll(async () => {
  messenger = await startTestMessenger({ rateLimits: false, relay: { keepAlive: { pingMs: PING_MS, pongWaitMs: PONG_WAIT_MS, checkMs: 50 } } });
});
afterAll(async () => {
  await messenger?.close();
});

interface Frame {
  id: number | null;
  result?: { type: string; data?: { id: string; data: { messageId: string } } };
}

async function subscribed(account: TestAccount, answerPings: () => boolean) {
  const ws = new WebSocket(`${messenger.wsUrl}?connectionParams=1`, { perMessageDeflate: false });
  const frames: Frame[] = [];
  let pings = 0;
  ws.on("message", (raw) => {
    const text = raw.toString();
    if (text === "PING") {
      pings += 1;
      if (answerPings()) ws.send("PONG");
      return;
    }
    frames.push(JSON.parse(text) as Frame);
  });
  const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  ws.send(JSON.stringify({ method: "connectionParams", data: { token: account.credential } }));
  ws.send(JSON.stringify({ id: 1, method: "subscription", params: { path: "inbox.stream", input: {} } }));
  await until(() => frames.some((f) => f.id === 1 && f.result?.type === "started"), 5_000);
  return { ws, frames, closed, pings: () => pings };
}

async function until(done: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("one keep-alive sweep for every socket", () => {
  it("an idle stream that answers PINGs stays open through many intervals and still receives", async () => {
    const alice = await registerAccount(messenger.url);
    const bob = await registerAccount(messenger.url);
    const client = await subscribed(bob, () => true);
    let closedEarly = false;
    void client.closed.then(() => (closedEarly = true));
    // Idle for well over pingMs + pongWaitMs, several times.
    await until(() => client.pings() >= 4, 10_000);
    expect(closedEarly).toBe(false);
    const messageId = randomUUID();
    await alice.api.message.send.mutate({ messageId, recipient: { accountId: bob.accountId }, type: 1, content: Buffer.from("opaque").toString("base64") });
    await until(() => client.frames.some((f) => f.result?.type === "data" && f.result.data?.data.messageId === messageId), 5_000);
    client.ws.close();
  });

  it("a client that stops answering is terminated within pingMs + pongWaitMs (+ a sweep)", async () => {
    const carol = await registerAccount(messenger.url);
    let answer = true;
    const client = await subscribed(carol, () => answer);
    await until(() => client.pings() >= 1, 5_000);
    answer = false;
    const silentFrom = Date.now();
    const code = await client.closed;
    const silentFor = Date.now() - silentFrom;
    expect(code).toBe(1006); // terminated, no close frame
    expect(silentFor).toBeGreaterThanOrEqual(PONG_WAIT_MS);
    expect(silentFor).toBeLessThan(PING_MS + PONG_WAIT_MS + 1_000);
    expect(client.pings()).toBeGreaterThanOrEqual(2); // pinged again, never answered
  });
});
