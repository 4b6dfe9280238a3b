/**
 * One device's inbox as an async generator of `tracked` envelopes.
 *
 * Order of operations (the usual race-free shape): subscribe to live envelopes
 * first, then read the backlog from the database after `afterId`, then yield
 * live envelopes, skipping any the backlog already covered. The queue writer
 * makes ids visible in increasing order per recipient, so "id <= cursor" is
 * exactly "already delivered on this stream".
 *
 * Memory stays bounded: at most `maxBuffered` live envelopes wait in memory; past
 * that they are dropped and re-read from the database (they are durable already).
 * Likewise, when the client reads slower than we write, we wait for the socket's
 * `bufferedAmount` to drain instead of letting ws buffer without limit.
 */
import { TRPCError, tracked } from "@trpc/server";
import type postgres from "postgres";
import type { WebSocket } from "ws";
import type { DeliveredEnvelope } from "@handshake/crypto/wire";
import { readInbox } from "../storage/queue";
import type { DeviceAddress, InboxBus } from "./bus";

export interface InboxStreamOptions {
  bus: InboxBus;
  sql: postgres.Sql;
  device: DeviceAddress;
  afterId: string | null | undefined;
  signal: AbortSignal | undefined;
  connection: WebSocket | null;
  pageSize?: number;
  maxBuffered?: number;
  /** Pause while the socket holds more than this many unsent bytes. */
  highWaterBytes?: number;
}

export async function* streamInbox(options: InboxStreamOptions) {
  const { bus, sql, device, signal, connection } = options;
  const pageSize = options.pageSize ?? 500;
  const maxBuffered = options.maxBuffered ?? 1000;
  const highWater = options.highWaterBytes ?? 1024 * 1024;

  let live: DeliveredEnvelope[] = [];
  let overflowed = false;
  let displaced = false;
  let wake: (() => void) | null = null;
  let cursor = BigInt(options.afterId ?? 0);
  const unsubscribe = bus.subscribe(
    device,
    (envelope) => {
      if (live.length >= maxBuffered) overflowed = true;
      else live.push(envelope);
      wake?.();
    },
    {
      // A bus between nodes sends wake-ups, not envelopes: re-read from the database.
      reread: (envelopeId) => {
        if (envelopeId !== undefined && BigInt(envelopeId) <= cursor) return;
        overflowed = true;
        wake?.();
      },
      displaced: () => {
        displaced = true;
        wake?.();
      },
    },
  );
  const onAbort = () => wake?.();
  signal?.addEventListener("abort", onAbort);

  const drained = async () => {
    while (connection && connection.bufferedAmount > highWater && !signal?.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  let readBacklog = true;
  try {
    await bus.ready?.();
    while (!signal?.aborted && !displaced) {
      if (readBacklog) {
        readBacklog = false;
        overflowed = false;
        for (;;) {
          const page = await readInbox(sql, device, cursor.toString(), pageSize);
          for (const envelope of page) {
            await drained();
            yield tracked(envelope.id, envelope);
            cursor = BigInt(envelope.id);
          }
          if (page.length < pageSize || signal?.aborted) break;
        }
      }
      const batch = live;
      live = [];
      for (const envelope of batch) {
        if (BigInt(envelope.id) <= cursor) continue;
        await drained();
        yield tracked(envelope.id, envelope);
        cursor = BigInt(envelope.id);
      }
      if (overflowed) {
        readBacklog = true;
        continue;
      }
      if (live.length === 0 && !signal?.aborted && !displaced) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    }
    if (displaced) {
      throw new TRPCError({ code: "CONFLICT", message: "this device connected again on another node; this older stream is closed" });
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener("abort", onAbort);
  }
}
