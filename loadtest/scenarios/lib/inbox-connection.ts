/**
 * One device's inbox over tRPC's WebSocket protocol, spoken directly (checked against
 * @trpc/server 11.25 adapters/ws and rpc types; see compat/wire.test.ts):
 *
 *   connect  ws://host/trpc?connectionParams=1
 *   send     {"method":"connectionParams","data":{"token":"<credential>"}}      (first frame)
 *   send     {"id":1,"method":"subscription","params":{"path":"inbox.stream","input":{},"lastEventId"?:"<id>"}}
 *   receive  {"id":1,"result":{"type":"started"}}
 *   receive  {"id":1,"result":{"type":"data","id":"<envelope id>","data":{"id":"<envelope id>","data":{…envelope…}}}}
 *   send     {"id":2,"method":"mutation","params":{"path":"inbox.ack","input":{"ids":["…"]}}}
 *   receive  {"id":2,"result":{"type":"data","data":{"acknowledged":n}}}   or {"id":2,"error":{…}}
 *   receive  "PING" (text, after 30 s without client frames) -> answer "PONG" or be dropped
 *   receive  {"id":null,"method":"reconnect"} before the server shuts down
 */
import { setTimeout, clearTimeout } from "k6/timers";
import { config } from "./config.ts";
import { CONNECT_TIMEOUT_SECONDS } from "../../src/model/timeline.ts";
import { OPEN, WebSocket, type MessageEvent } from "./websocket.ts";

export interface Envelope {
  id: string;
  type: number;
  senderAccountId: string;
  senderDeviceId: number;
  messageId: string;
  content: string;
  serverTimestamp: number;
  category?: string;
}

export interface InboxHandlers {
  /** The subscription is live (backlog follows first). */
  onStarted?(): void;
  /** `receivedAt`: when k6 read the frame off the socket (MessageEvent.timestamp, ms), not when this callback ran. */
  onEnvelope(envelope: Envelope, receivedAt: number): void;
  /** A frame answered with an error (subscription or mutation), or the socket failed. */
  onError?(what: string, error: { code?: string; message?: string; reason?: string }): void;
  onClose?(): void;
}

interface ErrorFrame {
  message?: string;
  data?: { code?: string; reason?: string };
}

interface Frame {
  id?: number | string | null;
  method?: string;
  result?: { type: "started" | "stopped" | "data"; id?: string; data?: unknown };
  error?: ErrorFrame;
}

const SUBSCRIPTION_ID = 1;

export class InboxConnection {
  private readonly ws: WebSocket;
  private nextId = SUBSCRIPTION_ID + 1;
  private readonly pending = new Map<number, (result: { ok: boolean; data?: unknown; error?: ErrorFrame }) => void>();
  private ackQueue: string[] = [];
  /** Acks sent but not yet answered: if the socket drops first, they must be sent again. */
  private readonly acksInFlight = new Set<string>();
  private ackTimer: number | null = null;
  /** The last envelope id seen: resume from it on reconnect. */
  lastEventId: string | null;
  started = false;
  closed = false;
  /** We hung up ourselves: errors after this are not the server's. */
  closing = false;
  readonly openedAt = Date.now();
  startedAt = 0;
  /** No "started" within CONNECT_TIMEOUT: counted as failed; closed as soon as it opens, if it ever does. */
  timedOut = false;
  private connectTimer: number | null = null;

  constructor(
    credential: string,
    private readonly handlers: InboxHandlers,
    options: { lastEventId?: string | null; ackDelayMs?: number; connectTimeoutMs?: number } = {},
  ) {
    this.lastEventId = options.lastEventId ?? null;
    this.ackDelayMs = options.ackDelayMs ?? 50;
    // One time series for all inbox sockets (the URL is the same for all anyway).
    this.ws = new WebSocket(`${config.wsUrl}?connectionParams=1`, null, { tags: { name: "inbox.stream" } });
    // k6's dialer gives up only after its fixed 60 s handshake timeout (grafana/k6
    // internal/js/modules/k6/websockets/websockets.go: HandshakeTimeout 60 s, "TODO
    // configurable"), so the script keeps its own. It must not close() a socket that is
    // still CONNECTING: close() writes to an unbuffered channel that only the write
    // loop started after the handshake drains (same file, close() and writeQueueCh),
    // which would block the VU's event loop. It is closed when it opens instead.
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      if (this.started || this.closed) return;
      this.timedOut = true;
      this.handlers.onError?.("connect-timeout", { message: `no subscription within ${CONNECT_TIMEOUT_SECONDS} s` });
      if (this.ws.readyState === OPEN) this.close();
    }, (options.connectTimeoutMs ?? CONNECT_TIMEOUT_SECONDS * 1000)) as unknown as number;
    this.ws.onopen = () => {
      if (this.timedOut) {
        this.close();
        return;
      }
      this.send(JSON.stringify({ method: "connectionParams", data: { token: credential } }));
      this.send(
        JSON.stringify({
          id: SUBSCRIPTION_ID,
          method: "subscription",
          params: { path: "inbox.stream", input: {}, ...(this.lastEventId ? { lastEventId: this.lastEventId } : {}) },
        }),
      );
    };
    this.ws.onmessage = (event?: MessageEvent) => this.receive(event);
    this.ws.onerror = (event?: { error?: string }) => {
      if (!this.closing) this.handlers.onError?.("socket", { message: event?.error ?? "websocket error" });
    };
    this.ws.onclose = () => {
      this.closed = true;
      if (this.connectTimer !== null) clearTimeout(this.connectTimer);
      for (const resolve of this.pending.values()) resolve({ ok: false, error: { message: "connection closed" } });
      this.pending.clear();
      if (this.ackTimer !== null) clearTimeout(this.ackTimer);
      this.handlers.onClose?.();
    };
  }

  private readonly ackDelayMs: number;

  /**
   * k6 throws InvalidStateError from send() on a socket that is not OPEN (websockets.go
   * assertStateOpen), e.g. between the server closing it and onclose running: frames
   * for a socket that is going away are dropped here instead.
   */
  private send(frame: string): boolean {
    if (this.ws.readyState !== OPEN) return false;
    this.ws.send(frame);
    return true;
  }

  private receive(event: MessageEvent | undefined) {
    const raw = event?.data;
    if (typeof raw !== "string") return;
    if (raw === "PING") {
      this.send("PONG");
      return;
    }
    if (raw === "PONG") return;
    const frame = JSON.parse(raw) as Frame;
    if (frame.method === "reconnect") return; // the scenario decides when to reconnect
    if (frame.id === SUBSCRIPTION_ID) {
      if (frame.error) {
        this.handlers.onError?.("inbox.stream", errorOf(frame.error));
        return;
      }
      if (frame.result?.type === "started") {
        if (this.timedOut) return;
        this.started = true;
        this.startedAt = event?.timestamp ?? Date.now();
        if (this.connectTimer !== null) clearTimeout(this.connectTimer);
        this.handlers.onStarted?.();
      } else if (frame.result?.type === "data") {
        const tracked = frame.result.data as { id: string; data: Envelope };
        this.lastEventId = frame.result.id ?? tracked.id;
        this.handlers.onEnvelope(tracked.data, event?.timestamp ?? Date.now());
      }
      return;
    }
    if (typeof frame.id === "number") {
      const resolve = this.pending.get(frame.id);
      this.pending.delete(frame.id);
      resolve?.(frame.error ? { ok: false, error: frame.error } : { ok: true, data: frame.result?.data });
    }
  }

  /** A mutation over this socket, authenticated as its device. */
  mutate<T>(path: string, input: unknown): Promise<{ ok: true; data: T } | { ok: false; error: ReturnType<typeof errorOf> }> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (this.closed) {
        resolve({ ok: false, error: { message: "connection closed" } });
        return;
      }
      this.pending.set(id, (r) => resolve(r.ok ? { ok: true, data: r.data as T } : { ok: false, error: errorOf(r.error ?? {}) }));
      if (!this.send(JSON.stringify({ id, method: "mutation", params: { path, input } }))) {
        this.pending.delete(id);
        resolve({ ok: false, error: { message: "connection not open" } });
      }
    });
  }

  /** Queues an ack; acks go out in batches (≤ 1,000 ids, the server's limit). */
  ack(id: string): void {
    this.ackQueue.push(id);
    if (this.closing || this.closed) return; // kept for unconfirmedAcks()
    if (this.ackQueue.length >= 1000) this.flushAcks();
    else if (this.ackTimer === null) this.ackTimer = setTimeout(() => this.flushAcks(), this.ackDelayMs);
  }

  private flushAcks(): void {
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    if (this.closing || this.closed) return;
    const ids = this.ackQueue;
    this.ackQueue = [];
    if (ids.length === 0 || this.closed) return;
    for (const id of ids) this.acksInFlight.add(id);
    void this.mutate<{ acknowledged: number }>("inbox.ack", { ids }).then((result) => {
      if (result.ok) for (const id of ids) this.acksInFlight.delete(id);
      else if (!this.closing) this.handlers.onError?.("inbox.ack", result.error);
    });
  }

  /**
   * Envelopes received whose ack the server has not confirmed. A resumed stream starts
   * after lastEventId, so these are not delivered again: ack them on the next connection.
   */
  unconfirmedAcks(): string[] {
    return [...this.acksInFlight, ...this.ackQueue];
  }

  /** Hangs up (acks queued so far go first). A socket still CONNECTING is closed once it opens (see the constructor). */
  close(): void {
    if (this.closed || this.closing) return;
    if (this.ws.readyState !== OPEN) {
      this.timedOut = true;
      return;
    }
    this.flushAcks();
    this.closing = true;
    this.ws.close();
  }
}

function errorOf(error: ErrorFrame): { code?: string; message?: string; reason?: string } {
  return {
    ...(error.data?.code ? { code: error.data.code } : {}),
    ...(error.message ? { message: error.message } : {}),
    ...(error.data?.reason ? { reason: error.data.reason } : {}),
  };
}
