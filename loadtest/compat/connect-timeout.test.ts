/**
 * The inbox's own connect timeout (k6's WebSocket dialer waits 60 s and cannot be told
 * otherwise): against a server that accepts TCP but never answers the handshake, the
 * connection reports "connect-timeout" after the timeout, without closing a socket that
 * is still CONNECTING (the strict shim throws if it tries, as that blocks k6's event loop).
 */
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { installK6Globals } from "./globals";

let server: Server;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = createServer((socket) => sockets.push(socket)); // reads the upgrade request, never answers
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface Inbox {
  InboxConnection: new (
    credential: string,
    handlers: { onEnvelope(): void; onError(what: string, e: { message?: string }): void; onStarted(): void },
    options: { connectTimeoutMs: number },
  ) => { timedOut: boolean; started: boolean; close(): void };
}

describe("inbox connect timeout", () => {
  it("a handshake that never completes is reported as connect-timeout, and closing it does not throw", async () => {
    installK6Globals({ TARGET: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, FIXTURES: "/unused" });
    vi.resetModules();
    const lib = "../scenarios/lib/inbox-connection.ts"; // typed for k6, not for Node
    const { InboxConnection } = (await import(/* @vite-ignore */ lib)) as Inbox;
    const errors: string[] = [];
    const started = Date.now();
    const connection = new InboxConnection("x", { onEnvelope: () => {}, onError: (what) => errors.push(what), onStarted: () => errors.push("started?!") }, { connectTimeoutMs: 300 });
    await vi.waitFor(() => expect(errors).toEqual(["connect-timeout"]), { timeout: 5000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(connection.timedOut).toBe(true);
    expect(connection.started).toBe(false);
    // Still CONNECTING: close() defers instead of calling the socket's close().
    expect(() => connection.close()).not.toThrow();
  });
});
