/**
 * Keep-alive for every WebSocket of a server with one timer, not two per socket.
 *
 * tRPC's own keep-alive (`applyWSSHandler({ keepAlive })`) gives each connection a
 * ping timer, a pong timer and closures re-created on every message: ~0.5 KB of
 * heap per idle connection and one timer per socket firing every `pingMs`. This
 * does the same on the same wire protocol — after `pingMs` without a frame from the
 * client it sends the text "PING" (tRPC clients answer "PONG"; any frame counts),
 * and a client that sends nothing for `pongWaitMs` after that is terminated — from
 * one sweep every `checkMs` over `wss.clients`. Per socket it keeps two small
 * integers in WeakMaps and one listener shared by all sockets.
 */
import type { WebSocket, WebSocketServer } from "ws";

export interface KeepAliveOptions {
  /** Idle time before a PING (default 30 s, tRPC's default). */
  pingMs?: number;
  /** Time a pinged client has to send anything before it is terminated (default 10 s). */
  pongWaitMs?: number;
  /** How often every socket is looked at (default 1 s; a socket is pinged up to this late). */
  checkMs?: number;
}

/**
 * A sweep looks at a tenth of the sockets every tenth of `checkMs`, not at all of them
 * at once: sockets that connected together (a reconnect storm, a bench's connect phase)
 * fall idle together, and one sweep sending thousands of PINGs (each a socket write)
 * held the event loop for tens of milliseconds, every send waiting behind it.
 */
const SLICES = 10;

const epoch = Date.now();
/** Deciseconds since start: a small integer, stored without a heap number per socket. */
const now = () => Math.floor((Date.now() - epoch) / 100);

export class KeepAlive {
  private readonly lastFrame = new WeakMap<WebSocket, number>();
  private readonly pingedAt = new WeakMap<WebSocket, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly pingTicks: number;
  private readonly pongTicks: number;
  /** Sockets terminated for not answering, for metrics and tests. */
  terminated = 0;
  /** One listener for every socket: `this` is the socket that sent a frame. */
  private readonly touch: (this: WebSocket) => void;

  constructor(
    private readonly wss: WebSocketServer,
    options: KeepAliveOptions = {},
  ) {
    if (!wss.clients) throw new Error("keep-alive needs the WebSocketServer's clientTracking (wss.clients)");
    this.pingTicks = Math.max(1, Math.round((options.pingMs ?? 30_000) / 100));
    this.pongTicks = Math.max(1, Math.round((options.pongWaitMs ?? 10_000) / 100));
    const { lastFrame, pingedAt } = this;
    this.touch = function (this: WebSocket) {
      lastFrame.set(this, now());
      pingedAt.delete(this);
    };
    this.timer = setInterval(() => this.sweep(), Math.max(1, Math.round((options.checkMs ?? 1_000) / SLICES)));
    this.timer.unref();
  }

  /** Starts watching `socket` (call once, when it connects). */
  attach(socket: WebSocket): void {
    this.lastFrame.set(socket, now());
    socket.on("message", this.touch);
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Where the sweep goes on from (a Set's iterator stays valid as sockets come and go). */
  private cursor: Iterator<WebSocket> | null = null;

  private sweep(): void {
    const t = now();
    const clients = this.wss.clients;
    for (let budget = Math.ceil(clients.size / SLICES); budget > 0; budget--) {
      this.cursor ??= clients.values();
      const next = this.cursor.next();
      if (next.done) {
        this.cursor = null;
        return;
      }
      this.check(next.value, t);
    }
  }

  private check(socket: WebSocket, t: number): void {
    if (socket.readyState !== socket.OPEN) return;
    const pinged = this.pingedAt.get(socket);
    if (pinged !== undefined) {
      if (t - pinged >= this.pongTicks) {
        this.terminated += 1;
        socket.terminate();
      }
      return;
    }
    if (t - (this.lastFrame.get(socket) ?? t) >= this.pingTicks) {
      this.pingedAt.set(socket, t);
      socket.send("PING");
    }
  }
}
