/**
 * A hand-driven tRPC WebSocket (the `ws` package, no tRPC client): what a
 * misbehaving or hostile client does that the SDK never would — open thousands
 * of `inbox.stream` subscriptions on one socket, or stop reading altogether.
 *
 * Wire format (tRPC v11 over ws): `{ method: "connectionParams", data }` first
 * (the URL says `?connectionParams=1`), then `{ id, method: "subscription",
 * params: { path, input } }`; the server answers `{ id, result: { type: "started" } }`,
 * then `{ id, result: { type: "data", id: <tracked id>, data } }`, or `{ id, error }`.
 */
import type { Socket } from "node:net";
import WebSocket from "ws";

export class RawInboxSocket {
  private readonly ws: WebSocket;
  private socket: Socket | null = null;
  /** Subscription ids the server started / refused with an error. */
  readonly started = new Set<number>();
  readonly refused = new Map<number, string>();
  /** Tracked (envelope) id → how many times it came down this socket. */
  readonly copies = new Map<string, number>();
  bytesReceived = 0;
  closed: { code: number; reason: string } | null = null;
  private nextId = 1;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("upgrade", (response) => {
      this.socket = response.socket as Socket;
    });
    ws.on("message", (raw: Buffer) => {
      this.bytesReceived += raw.length;
      let message: { id?: number; result?: { type?: string; id?: string }; error?: { message?: string } };
      try {
        message = JSON.parse(raw.toString("utf8")) as typeof message;
      } catch {
        return;
      }
      if (typeof message.id !== "number") return;
      if (message.error) this.refused.set(message.id, message.error.message ?? "error");
      else if (message.result?.type === "started") this.started.add(message.id);
      else if (message.result?.type === "data" && message.result.id) {
        this.copies.set(message.result.id, (this.copies.get(message.result.id) ?? 0) + 1);
      }
    });
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString("utf8") };
    });
    ws.on("error", () => {});
  }

  /** Opens the socket as the device holding `credential`. */
  static async open(httpUrl: string, credential: string): Promise<RawInboxSocket> {
    const ws = new WebSocket(`${httpUrl.replace(/^http/, "ws")}?connectionParams=1`);
    const raw = new RawInboxSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.send(JSON.stringify({ method: "connectionParams", data: { token: credential } }));
    return raw;
  }

  /** Sends `count` `inbox.stream` subscriptions as fast as the socket takes them. */
  subscribe(count: number): void {
    for (let i = 0; i < count; i++) {
      const id = this.nextId++;
      this.ws.send(JSON.stringify({ id, method: "subscription", params: { path: "inbox.stream", input: {} } }));
    }
  }

  get requested(): number {
    return this.nextId - 1;
  }

  /** Stops reading from the socket: the server's writes pile up in its buffers. */
  stopReading(): void {
    this.socket?.pause();
  }

  /** Copies of the most-copied envelope (1 is right: one device, one delivery). */
  maxCopies(): number {
    return Math.max(0, ...this.copies.values());
  }

  close(): void {
    this.ws.terminate();
  }
}
