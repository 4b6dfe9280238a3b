/**
 * A budget of unsent bytes per WebSocket.
 *
 * `ws` queues whatever tRPC sends, without limit: a client that stops reading
 * would hold server memory for as long as its socket stays open. So:
 *  - inbox streams pause while their connection holds more than `budgetBytes`
 *    unsent (`ws.bufferedAmount`, which counts every frame on that socket, so
 *    the bound is per socket however many calls share it);
 *  - a connection that stays over the budget for `graceMs` is closed, and one
 *    that passes `hardLimitBytes` is closed at once (replies to a flood of
 *    queries and mutations are not paused by anything else).
 * Closing terminates the socket: a client that does not read would not read a
 * close frame either, and only dropping the socket frees what it holds. Its
 * envelopes stay queued; the client resumes after `lastEventId` when it reconnects.
 *
 * It also coalesces frames: the first frame sent on a socket in an event-loop turn
 * corks the TCP socket under it, and one `setImmediate` for all sockets uncorks
 * them, so every frame a turn produced for a socket (a group commit wakes many
 * streams and answers many sends at once) leaves in one `writev` instead of one
 * system call per frame. Frames stay separate WebSocket frames in their order
 * (tRPC's protocol is unchanged); corked bytes count in `bufferedAmount`, so the
 * budget sees them.
 */
import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import type { Logger } from "../log";

export interface SocketBudgetOptions {
  /** Inbox streams pause above this many unsent bytes (default 1 MiB). */
  budgetBytes?: number;
  /** A socket over the budget this long without draining below it is closed (default 10 s). */
  graceMs?: number;
  /** A socket past this many unsent bytes is closed at once (default 8 MiB). */
  hardLimitBytes?: number;
  /** How often sockets over the budget are looked at (default 250 ms). */
  checkMs?: number;
  /** Send the frames of one event-loop turn in one write per socket (default true). */
  coalesceFrames?: boolean;
}

export class SocketBudget {
  readonly budgetBytes: number;
  private readonly graceMs: number;
  private readonly hardLimitBytes: number;
  /** Sockets over the budget, with the real time they went over. */
  private readonly over = new Map<WebSocket, number>();
  private readonly timer: NodeJS.Timeout;
  /** Sockets closed for not reading, for metrics and tests. */
  closedSlowConsumers = 0;
  /** Sockets whose TCP socket was corked in this turn, uncorked together by one `setImmediate`. */
  private corked = new Set<WebSocket>();
  private flushScheduled = false;
  /** Frames sent and writes they took (one per socket per turn), for tests and metrics. */
  readonly coalescing = { frames: 0, flushes: 0 };
  private readonly coalesce: boolean;

  constructor(
    private readonly logger: Logger,
    options: SocketBudgetOptions = {},
  ) {
    this.budgetBytes = options.budgetBytes ?? 1024 * 1024;
    this.graceMs = options.graceMs ?? 10_000;
    this.hardLimitBytes = options.hardLimitBytes ?? 8 * 1024 * 1024;
    this.coalesce = options.coalesceFrames ?? true;
    this.timer = setInterval(() => this.sweep(), options.checkMs ?? 250);
    this.timer.unref();
  }

  /**
   * Watches every frame sent on `socket` (call once, when it connects). One `send`
   * shared by every socket (`this` is the socket), not closures per socket: under
   * tsx each named closure costs ~300 B (see inbox-stream.ts), per idle connection.
   */
  attach(socket: WebSocket): void {
    // Every socket's `send` is ws's own (the prototype's): one wrapper serves them all. A
    // socket whose `send` someone already replaced gets a wrapper of its own around it.
    if (!this.send) this.send = { original: socket.send, wrapped: SocketBudget.makeSend(this, socket.send) };
    socket.send = socket.send === this.send.original ? this.send.wrapped : SocketBudget.makeSend(this, socket.send);
    // `on`, not `once`: a socket closes once, and `once` wraps the listener per socket.
    socket.on("close", this.onClose);
  }

  /** Shared by every socket: `this` is the socket that closed. */
  private readonly onClose = ((budget: SocketBudget) =>
    function (this: WebSocket) {
      budget.over.delete(this);
    })(this);

  private send: { original: WebSocket["send"]; wrapped: WebSocket["send"] } | undefined;

  private static makeSend(budget: SocketBudget, original: WebSocket["send"]): WebSocket["send"] {
    return function (this: WebSocket, ...args: unknown[]) {
      // ws keeps the TCP socket in `_socket` (not typed); without it, frames go out one by one.
      const tcp = budget.coalesce ? (this as unknown as { _socket?: Socket })._socket : undefined;
      if (tcp && !budget.corked.has(this) && !tcp.destroyed && this.readyState === this.OPEN) {
        budget.corked.add(this);
        tcp.cork();
        budget.scheduleFlush();
      }
      budget.coalescing.frames += 1;
      (original as (...a: unknown[]) => void).apply(this, args);
      budget.observe(this);
    } as WebSocket["send"];
  }

  /** True while `socket` holds more unsent bytes than the budget. */
  isOver(socket: WebSocket): boolean {
    return socket.bufferedAmount > this.budgetBytes;
  }

  close(): void {
    clearInterval(this.timer);
    this.over.clear();
    this.flush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Uncorks every socket corked this turn: each writes what it holds in one go. */
  private flush(): void {
    this.flushScheduled = false;
    const corked = this.corked;
    this.corked = new Set();
    for (const socket of corked) {
      const tcp = (socket as unknown as { _socket?: Socket })._socket;
      if (tcp && !tcp.destroyed) tcp.uncork();
      this.coalescing.flushes += 1;
    }
  }

  private observe(socket: WebSocket): void {
    const buffered = socket.bufferedAmount;
    if (buffered <= this.budgetBytes) return;
    if (buffered > this.hardLimitBytes) {
      this.drop(socket, buffered, 0);
      return;
    }
    if (!this.over.has(socket)) this.over.set(socket, Date.now());
  }

  private sweep(): void {
    const now = Date.now();
    for (const [socket, since] of this.over) {
      const buffered = socket.bufferedAmount;
      if (buffered <= this.budgetBytes) this.over.delete(socket);
      else if (now - since >= this.graceMs) this.drop(socket, buffered, now - since);
    }
  }

  private drop(socket: WebSocket, bufferedBytes: number, overForMs: number): void {
    this.over.delete(socket);
    if (socket.readyState === socket.CLOSED) return;
    this.closedSlowConsumers += 1;
    this.logger.warn({ bufferedBytes, overForMs, budgetBytes: this.budgetBytes }, "closed a connection that does not read (slow consumer)");
    socket.terminate();
  }
}
