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

export async function* streamInbox(options: InboxStreamOptions) {
  const { bus, sql, device, signal, connection, logger } = options;
  const lease = options.lease ?? null;
  const pageSize = options.pageSize ?? 500;
  const maxBuffered = options.maxBuffered ?? 1000;
  const highWater = options.highWaterBytes ?? 1024 * 1024;

  let cursor = BigInt(options.afterId ?? 0);
  let live: InboxNotice[] = [];
  let reread = true; // the backlog first
  let wake: (() => void) | null = null;
  const notify = () => {
    const resume = wake;
    wake = null;
    resume?.();
  };
  const pause = (ms?: number) =>
    new Promise<void>((resolve) => {
      const timer = ms === undefined ? null : setTimeout(notify, ms);
      wake = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
    });
  const unsubscribe = bus.subscribe(
    device,
    (notice) => {
      // A wake-up (from another node, the sweep, a commit of unknown outcome), or more
      // notices than we keep in memory: the queue has them all.
      if (!notice.envelope || live.length >= maxBuffered) reread = true;
      else live.push(notice);
      notify();
    },
    // A newer stream of this device on another node: displaced as by a newer one here.
    { displaced: () => lease?.displacedElsewhere() },
  );
  signal?.addEventListener("abort", notify);
  if (lease) lease.onChange = notify;
  const stopped = () => Boolean(signal?.aborted || lease?.displaced || lease?.released);

  /** True when delivery must wait for the socket to drain or re-check the account's service first. */
  const mustWait = () => Boolean((connection && connection.bufferedAmount > highWater) || lease?.mustCheck());
  /** Waits until the next envelope may go out: the socket has room and the account still has service. */
  const mayDeliver = async () => {
    while (connection && connection.bufferedAmount > highWater && !stopped()) await pause(10);
    if (lease) await lease.ensureService();
    return !stopped();
  };

  /** A page of the queue after the cursor; retried while the database is away (the stream just waits). */
  const readPage = async (): Promise<DeliveredEnvelope[]> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await readInbox(sql, device, cursor.toString(), pageSize);
      } catch (err) {
        if (stopped()) return [];
        logger?.warn({ err, attempt, accountId: device.accountId }, "inbox read failed; retrying");
        await pause(Math.min(50 * 2 ** attempt, 2_000));
        if (stopped()) return [];
      }
    }
  };

  try {
    // The subscription must see every later notice before the backlog read (NATS: SUB acknowledged).
    await bus.ready?.();
    while (!stopped()) {
      if (lease?.ended) throw lease.ended;
      if (reread) {
        reread = false;
        live = []; // published before this read starts, so the read covers them
        for (;;) {
          const page = await readPage();
          for (const envelope of page) {
            if (mustWait() && !(await mayDeliver())) break;
            if (stopped()) break;
            yield tracked(envelope.id, envelope);
            cursor = BigInt(envelope.id);
          }
          if (page.length < pageSize || stopped()) break;
        }
        continue;
      }
      if (live.length > 0) {
        const batch = live;
        live = [];
        for (const { envelope, previousId } of batch) {
          const id = BigInt(envelope!.id);
          if (id <= cursor) continue;
          if (previousId === undefined || (previousId !== null && BigInt(previousId) > cursor)) {
            // Something below it may have been stored and not delivered here (or the
            // notice cannot tell): read the queue after the cursor, in order.
            reread = true;
            break;
          }
          if (mustWait() && !(await mayDeliver())) break;
          if (stopped()) break;
          yield tracked(envelope!.id, envelope!);
          cursor = id;
        }
        continue;
      }
      await pause();
    }
    if (lease?.ended) throw lease.ended;
    // Displaced: deliver nothing more, but let the client stop the subscription (a move
    // to a new socket) or the presence close the connection; ending here would tell a
    // moving client its subscription is over.
    while (lease?.displaced && !signal?.aborted && !lease.released) await pause();
  } finally {
    unsubscribe();
    signal?.removeEventListener("abort", notify);
    lease?.release();
  }
}
