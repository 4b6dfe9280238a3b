/**
 * One device's inbox as an async generator of `tracked` envelopes.
 *
 * The queue in the database is the truth; the bus only says "look". The stream
 * keeps a cursor (the last id it delivered, or the client's `lastEventId`) and
 * delivers strictly in id order:
 *  - it listens to the bus first, then reads the queue after the cursor;
 *  - a notice whose envelope comes right after the cursor (its `previousId`, the
 *    device's newest envelope still queued below it when it was stored, is at or
 *    below the cursor) is delivered straight from memory;
 *  - anything else — a notice after a gap (an earlier one was never announced:
 *    a commit whose reply was lost, a bus message dropped), a plain wake-up (all
 *    that crosses between nodes, see `nats-bus.ts`), too many notices waiting —
 *    makes it read the queue again after the cursor.
 * The queue writer makes ids visible in increasing order (one transaction at a
 * time under an advisory lock), so once the cursor passes an id, nothing below it
 * can appear later: "id <= cursor" is exactly "already delivered", and resuming
 * after `lastEventId` loses nothing.
 *
 * Memory stays bounded: at most `maxBuffered` notices wait in memory (past that
 * the stream re-reads), and delivery pauses while the socket holds more than
 * `highWaterBytes` unsent (the connection's budget, see `socket-budget.ts`).
 *
 * Memory per idle stream: the stream's state and helpers are one object with its
 * methods on the prototype, not closures made per stream. The messenger runs under
 * tsx, whose esbuild `keepNames` wraps every named closure in `__name()`, which
 * redefines `name` and leaves the function with a ~256 B dictionary of properties:
 * eight such helpers per stream were ~2.5 KB of every idle connection.
 */
import { tracked } from "@trpc/server";
import type postgres from "postgres";
import type { WebSocket } from "ws";
import type { DeliveredEnvelope } from "@handshake/crypto/wire";
import type { Logger } from "../log";
import { readInbox } from "../storage/queue";
import type { DeviceAddress, InboxBus, InboxNotice } from "./bus";
import type { InboxLease } from "./presence";

export interface InboxStreamOptions {
  bus: InboxBus;
  sql: postgres.Sql;
  device: DeviceAddress;
  afterId: string | null | undefined;
  signal: AbortSignal | undefined;
  connection: WebSocket | null;
  /** Its entry in the presence map: displacement and loss of service end it. */
  lease?: InboxLease | null;
  logger?: Logger;
  pageSize?: number;
  maxBuffered?: number;
  /** Pause while the socket holds more than this many unsent bytes. */
  highWaterBytes?: number;
}

export function streamInbox(options: InboxStreamOptions) {
  return new InboxStream(options).run();
}

class InboxStream {
  private readonly bus: InboxBus;
  private readonly sql: postgres.Sql;
  private readonly device: DeviceAddress;
  private readonly signal: AbortSignal | undefined;
  private readonly connection: WebSocket | null;
  private readonly logger: Logger | undefined;
  private readonly lease: InboxLease | null;
  private readonly pageSize: number;
  private readonly maxBuffered: number;
  private readonly highWater: number;
  private cursor: bigint;
  private live: InboxNotice[] = [];
  private reread = true; // the backlog first
  /** The paused stream's resolve, and the timer of a timed pause. */
  private resume: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Wakes the stream (bus notices, lease changes, timed pauses); one bound method, not a closure. */
  private readonly notify: () => void;

  constructor(options: InboxStreamOptions) {
    this.bus = options.bus;
    this.sql = options.sql;
    this.device = options.device;
    this.signal = options.signal;
    this.connection = options.connection;
    this.logger = options.logger;
    this.lease = options.lease ?? null;
    this.pageSize = options.pageSize ?? 500;
    this.maxBuffered = options.maxBuffered ?? 1000;
    this.highWater = options.highWaterBytes ?? 1024 * 1024;
    this.cursor = BigInt(options.afterId ?? 0);
    this.notify = this.wake.bind(this);
  }

  private wake(): void {
    const resume = this.resume;
    this.resume = null;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    resume?.();
  }

  /** The signal's "abort" listener when there is no lease (the lease listens otherwise). */
  handleEvent(): void {
    this.wake();
  }

  /** A bus notice (a bound method, called with the notice). */
  private onNotice(notice: InboxNotice): void {
    // A wake-up (from another node, the sweep, a commit of unknown outcome), or more
    // notices than we keep in memory: the queue has them all.
    if (!notice.envelope || this.live.length >= this.maxBuffered) this.reread = true;
    else this.live.push(notice);
    this.wake();
  }

  private pause(ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.resume = resolve;
      if (ms !== undefined) this.timer = setTimeout(this.notify, ms);
    });
  }

  private stopped(): boolean {
    const lease = this.lease;
    return Boolean(this.signal?.aborted || lease?.displaced || lease?.released);
  }

  /** True when delivery must wait for the socket to drain or re-check the account's service first. */
  private mustWait(): boolean {
    return Boolean((this.connection && this.connection.bufferedAmount > this.highWater) || this.lease?.mustCheck());
  }

  /** Waits until the next envelope may go out: the socket has room and the account still has service. */
  private async mayDeliver(): Promise<boolean> {
    const connection = this.connection;
    while (connection && connection.bufferedAmount > this.highWater && !this.stopped()) await this.pause(10);
    if (this.lease) await this.lease.ensureService();
    return !this.stopped();
  }

  /** A page of the queue after the cursor; retried while the database is away (the stream just waits). */
  private async readPage(): Promise<DeliveredEnvelope[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await readInbox(this.sql, this.device, this.cursor.toString(), this.pageSize);
      } catch (err) {
        if (this.stopped()) return [];
        this.logger?.warn({ err, attempt, accountId: this.device.accountId }, "inbox read failed; retrying");
        await this.pause(Math.min(50 * 2 ** attempt, 2_000));
        if (this.stopped()) return [];
      }
    }
  }

  async *run() {
    const { bus, signal, lease } = this;
    const unsubscribe = bus.subscribe(
      this.device,
      this.onNotice.bind(this),
      // A newer stream of this device on another node: displaced as by a newer one here.
      lease ? { displaced: lease.displacedElsewhere.bind(lease) } : {},
    );
    // With a lease, its own "abort" listener releases it and `onChange` wakes us: one listener
    // on the signal, not two (Node 20 wraps each listener object in a closure of its own).
    if (lease) lease.onChange = this.notify;
    else signal?.addEventListener("abort", this);

    try {
      // The subscription must see every later notice before the backlog read (NATS: SUB acknowledged).
      await bus.ready?.();
      while (!this.stopped()) {
        if (lease?.ended) throw lease.ended;
        if (this.reread) {
          this.reread = false;
          this.live = []; // published before this read starts, so the read covers them
          for (;;) {
            const page = await this.readPage();
            for (const envelope of page) {
              if (this.mustWait() && !(await this.mayDeliver())) break;
              if (this.stopped()) break;
              yield tracked(envelope.id, envelope);
              this.cursor = BigInt(envelope.id);
            }
            if (page.length < this.pageSize || this.stopped()) break;
          }
          continue;
        }
        if (this.live.length > 0) {
          const batch = this.live;
          this.live = [];
          for (const { envelope, previousId } of batch) {
            const id = BigInt(envelope!.id);
            if (id <= this.cursor) continue;
            if (previousId === undefined || (previousId !== null && BigInt(previousId) > this.cursor)) {
              // Something below it may have been stored and not delivered here (or the
              // notice cannot tell): read the queue after the cursor, in order.
              this.reread = true;
              break;
            }
            if (this.mustWait() && !(await this.mayDeliver())) break;
            if (this.stopped()) break;
            yield tracked(envelope!.id, envelope!);
            this.cursor = id;
          }
          continue;
        }
        await this.pause();
      }
      if (lease?.ended) throw lease.ended;
      // Displaced: deliver nothing more, but let the client stop the subscription (a move
      // to a new socket) or the presence close the connection; ending here would tell a
      // moving client its subscription is over.
      while (lease?.displaced && !signal?.aborted && !lease.released) await this.pause();
    } finally {
      unsubscribe();
      if (!lease) signal?.removeEventListener("abort", this);
      lease?.release();
    }
  }
}
