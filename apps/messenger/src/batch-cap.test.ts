/**
 * tRPC batches are capped on both transports (issue 10, defect 10): one request
 * must not become thousands of calls. Real server, raw HTTP and a raw WebSocket.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestMessenger, type TestMessenger } from "./testing";
import { MAX_BATCH_CALLS } from "./trpc";

let messenger: TestMessenger;
beforeAll(async () => {
  messenger = await startTestMessenger();
});
afterAll(async () => {
  await messenger?.close();
});

async function httpBatch(calls: number) {
  const paths = Array.from({ length: calls }, () => "inbox.ack").join(",");
  const body = Object.fromEntries(Array.from({ length: calls }, (_, i) => [String(i), { ids: ["1"] }]));
  const response = await fetch(`${messenger.url}/${paths}?batch=1`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

/** Sends one frame holding `calls` calls and collects replies until `expected` have come. */
async function wsBatch(calls: number, expected: number): Promise<unknown[]> {
  const ws = new WebSocket(messenger.wsUrl);
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  const replies: unknown[] = [];
  const done = new Promise<void>((resolve) =>
    ws.on("message", (raw) => {
      const text = raw.toString();
      if (text === "PING") return;
      const parsed = JSON.parse(text) as unknown;
      replies.push(...(Array.isArray(parsed) ? parsed : [parsed]));
      if (replies.length >= expected) resolve();
    }),
  );
  ws.send(JSON.stringify(Array.from({ length: calls }, (_, i) => ({ id: i + 1, method: "query", params: { path: "keys.count" } }))));
  await done;
  ws.close();
  return replies;
}

describe(`tRPC batches (at most ${MAX_BATCH_CALLS} calls)`, () => {
  it("refuses a larger HTTP batch as a whole with a clear error, and serves one at the cap", async () => {
    const refused = await httpBatch(900);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain(`a batch may hold at most ${MAX_BATCH_CALLS} calls`);
    const allowed = await httpBatch(MAX_BATCH_CALLS);
    expect(allowed.body).toHaveLength(MAX_BATCH_CALLS);
  });

  it("refuses every call of a larger batch in one WebSocket frame with the same clear error, and serves one at the cap", async () => {
    const refused = await wsBatch(900, 900);
    expect(refused).toHaveLength(900);
    for (const reply of refused) expect(JSON.stringify(reply)).toContain(`a batch may hold at most ${MAX_BATCH_CALLS} calls`);
    const allowed = await wsBatch(MAX_BATCH_CALLS, MAX_BATCH_CALLS);
    expect(allowed).toHaveLength(MAX_BATCH_CALLS);
    expect(JSON.stringify(allowed[0])).toContain("UNAUTHORIZED");
  });
});
