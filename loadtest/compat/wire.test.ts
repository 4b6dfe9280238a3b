/**
 * The tRPC wire format the k6 scripts speak, pinned against a real messenger with
 * raw HTTP and raw WebSocket frames (@trpc/server 11.25, no transformer), then the
 * scripts' own helpers (lib/trpc-http.ts, lib/inbox-connection.ts) under the shims.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { startTestMessenger, type TestMessenger } from "@handshake/messenger/testing";
import { installK6Globals } from "./globals";
import { writeMiniFixture } from "./mini-fixture";
import type { Content, Inbox, InboxConnectionLike, TrpcHttp } from "./wire-types";

let messenger: TestMessenger;
let fixtures: string;
interface FixtureUser {
  accountId: string;
  credential: string;
}
let people: FixtureUser[];

beforeAll(async () => {
  messenger = await startTestMessenger({ rateLimits: false });
  fixtures = await writeMiniFixture(messenger.url);
  people = JSON.parse(await import("node:fs/promises").then((fs) => fs.readFile(`${fixtures}/users.json`, "utf8"))) as FixtureUser[];
});

afterAll(async () => {
  await messenger?.close();
});

async function post(path: string, input: unknown, credential?: string) {
  const response = await fetch(`${messenger.url}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(credential ? { authorization: `Bearer ${credential}` } : {}) },
    body: JSON.stringify(input),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function frames(socket: WebSocket) {
  const seen: unknown[] = [];
  const waiters: Array<() => void> = [];
  socket.on("message", (data) => {
    const text = data.toString();
    seen.push(text === "PING" || text === "PONG" ? text : JSON.parse(text));
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    seen,
    async next(predicate: (frame: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
      for (;;) {
        const found = seen.find((f) => typeof f === "object" && predicate(f as Record<string, unknown>));
        if (found) return found as Record<string, unknown>;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

describe("tRPC wire format (raw frames against the real server)", () => {
  it("HTTP: queries take ?input=, mutations a JSON body; results and errors have the documented shape", async () => {
    const [alice, bob] = people as [FixtureUser, FixtureUser];
    const clock = await fetch(`${messenger.url}/clock.now`);
    expect(await clock.json()).toEqual({ result: { data: { now: expect.stringMatching(/^2016-08-2/) } } });
    const business = people[6]!;
    const choice = await fetch(`${messenger.url}/business.choice?input=${encodeURIComponent(JSON.stringify({ businessId: business.accountId }))}`, {
      headers: { authorization: `Bearer ${alice.credential}` },
    });
    expect(await choice.json()).toMatchObject({ result: { data: { businessId: business.accountId } } });
    const sent = await post("message.send", { messageId: randomUUID(), recipient: { accountId: bob.accountId }, type: 1, content: "AAAA" }, alice.credential);
    expect(sent).toMatchObject({ status: 200, body: { result: { data: { envelopeId: expect.any(String), duplicate: false } } } });
    const refused = await post("message.send", { messageId: randomUUID(), recipient: { accountId: bob.accountId }, type: 1, content: "AAAA" });
    expect(refused).toMatchObject({
      status: 401,
      body: { error: { message: expect.any(String), code: -32001, data: { code: "UNAUTHORIZED", httpStatus: 401 } } },
    });
  });

  it("WebSocket: connectionParams first, then subscription frames started / data (tracked, nested) and mutation answers", async () => {
    const [alice, , carol] = people as [FixtureUser, FixtureUser, FixtureUser];
    const socket = new WebSocket(`${messenger.wsUrl}?connectionParams=1`);
    const inbox = frames(socket);
    await new Promise((resolve) => socket.once("open", resolve));
    socket.send(JSON.stringify({ method: "connectionParams", data: { token: carol.credential } }));
    socket.send(JSON.stringify({ id: 1, method: "subscription", params: { path: "inbox.stream", input: {} } }));
    expect(await inbox.next((f) => f.id === 1)).toEqual({ id: 1, result: { type: "started" } });

    const messageId = randomUUID();
    await post("message.send", { messageId, recipient: { accountId: carol.accountId }, type: 1, content: "AAECAw==" }, alice.credential);
    const data = (await inbox.next((f) => f.id === 1 && (f.result as { type: string }).type === "data")) as {
      result: { type: string; id: string; data: { id: string; data: Record<string, unknown> } };
    };
    expect(data.result.id).toMatch(/^[1-9][0-9]*$/);
    expect(data.result.data).toEqual({
      id: data.result.id,
      data: expect.objectContaining({ id: data.result.id, type: 1, senderAccountId: alice.accountId, messageId, content: "AAECAw==", serverTimestamp: expect.any(Number) }),
    });

    socket.send(JSON.stringify({ id: 2, method: "mutation", params: { path: "inbox.ack", input: { ids: [data.result.id] } } }));
    expect(await inbox.next((f) => f.id === 2)).toEqual({ id: 2, result: { type: "data", data: expect.objectContaining({ acknowledged: 1 }) } });
    socket.send(JSON.stringify({ id: 3, method: "mutation", params: { path: "inbox.ack", input: { ids: [] } } }));
    expect(await inbox.next((f) => f.id === 3)).toMatchObject({ id: 3, error: { data: { code: "BAD_REQUEST", httpStatus: 400 } } });
    socket.send("PING");
    await inbox.next(() => inbox.seen.includes("PONG"));
    socket.close();
  });

  it("the scripts' helpers: HTTP calls, an inbox that receives, acks, gets receipts and resumes after lastEventId", async () => {
    installK6Globals({ TARGET: messenger.url.replace(/\/trpc$/, ""), FIXTURES: fixtures });
    vi.resetModules();
    // Not a literal path: the k6 files are type-checked by scenarios/tsconfig.json (k6 types), not here.
    const lib = "../scenarios/lib/";
    const { mutate, query } = (await import(/* @vite-ignore */ `${lib}trpc-http.ts`)) as TrpcHttp;
    const { InboxConnection } = (await import(/* @vite-ignore */ `${lib}inbox-connection.ts`)) as Inbox;
    const { sentAtOf, timestampedContent, uuid } = (await import(/* @vite-ignore */ `${lib}content.ts`)) as Content;
    const [alice, bob] = [people[3]!, people[4]!];

    const clock = await query("clock.now", undefined);
    expect(clock).toMatchObject({ ok: true, data: { now: expect.any(String) } });
    const denied = await mutate("admin.advanceClock", { days: 1 }, { adminToken: "wrong-token-0123456789abcdef" });
    expect(denied).toMatchObject({ ok: false, error: { code: "UNAUTHORIZED", httpStatus: 401 } });

    const received: Array<{ id: string; type: number; content: string; messageId: string }> = [];
    const open = (credential: string, sink: typeof received, lastEventId: string | null = null) =>
      new Promise<InboxConnectionLike>((resolve, reject) => {
        const connection = new InboxConnection(
          credential,
          {
            onStarted: () => resolve(connection),
            onEnvelope: (e: (typeof received)[number]) => (sink.push(e), connection.ack(e.id)),
            onError: (w: string, e: { message?: string }) => reject(new Error(`${w}: ${e.message}`)),
          },
          { lastEventId },
        );
      });
    const receipts: typeof received = [];
    const bobInbox = await open(bob.credential, received);
    const aliceInbox = await open(alice.credential, receipts);
    const sentAt = Date.now();
    const messageId = uuid();
    const sent = await mutate("message.send", { messageId, recipient: { accountId: bob.accountId }, type: 1, content: timestampedContent(100, sentAt) }, { credential: alice.credential });
    expect(sent.ok).toBe(true);
    await vi.waitFor(() => expect(received).toHaveLength(1));
    expect(sentAtOf(received[0]!.content)).toBe(sentAt);
    await vi.waitFor(() => expect(receipts.some((r) => r.type === 5 && r.messageId === messageId)).toBe(true));

    // Resume: a message sent while Bob is away arrives once, after his last seen id.
    const last = bobInbox.lastEventId;
    bobInbox.close();
    await mutate("message.send", { messageId: uuid(), recipient: { accountId: bob.accountId }, type: 1, content: timestampedContent(64, Date.now()) }, { credential: alice.credential });
    const again = await open(bob.credential, received, last);
    await vi.waitFor(() => expect(received).toHaveLength(2));
    expect(new Set(received.map((r) => r.id)).size).toBe(2);
    again.close();
    aliceInbox.close();
  });
});
