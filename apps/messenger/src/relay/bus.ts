/**
 * How a connected device learns that its queue has something new.
 *
 * One interface, one implementation per backend. `LocalInboxBus` serves a single
 * node (every connection lives in this process). `NatsInboxBus` (nats-bus.ts)
 * serves several nodes: it hands local streams the same notices as the local bus
 * and tells other nodes' streams only "look in the queue" (a notice without
 * envelope), plus which node holds a device's newest stream (presence).
 *
 * The bus is a wake-up, never the source of truth: a notice may be lost (NATS core
 * is at-most-once; a commit whose reply was lost publishes nothing), duplicated or
 * reordered, and delivery stays exact because the inbox stream reads the queue in
 * the database by id whenever a notice does not prove it has missed nothing
 * (see `inbox-stream.ts`). A lost notice costs latency, never an envelope.
 */
import type { DeliveredEnvelope } from "@handshake/crypto/wire";

export interface DeviceAddress {
  accountId: string;
  deviceId: number;
}

/**
 * "The queue of this device changed." With `envelope`, the writer stored that
 * envelope (already durable) and `previousId` is the id of the device's newest
 * envelope that was still queued below it at that moment (`null`: none was). A
 * stream whose cursor is at or past `previousId` may deliver `envelope` directly;
 * any other stream re-reads the queue. Without `envelope`, it is a plain wake-up:
 * "look in the queue" (sent for duplicates and for commits of unknown outcome).
 */
export interface InboxNotice {
  envelope?: DeliveredEnvelope;
  previousId?: string | null;
}

export type InboxListener = (notice: InboxNotice) => void;

/** What a bus between nodes may tell a stream besides notices about its queue. */
export interface InboxSubscriptionEvents {
  /**
   * A newer stream of this device opened on another node: this one is displaced,
   * exactly as by a newer stream on this node (see `presence.ts`).
   */
  displaced?: () => void;
}

export interface InboxBus {
  /** Listen for notices about `device`'s queue; returns the unsubscribe function. */
  subscribe(device: DeviceAddress, listener: InboxListener, events?: InboxSubscriptionEvents): () => void;
  /** Announce a change to `device`'s queue that is already durable. */
  publish(device: DeviceAddress, notice: InboxNotice): void;
  /** Devices with at least one open inbox stream on this node. */
  connectedDevices(): number;
  /** Running counts for metrics (`observability/metrics.ts`). */
  readonly stats?: { published: number; publishFailures: number };
  /**
   * Resolves once the subscriptions made so far see every later publish (NATS: one
   * PING round trip after SUB); a stream awaits it before reading its backlog.
   */
  ready?(): Promise<void>;
  /** Stops the bus (closes its connection); the server calls it on shutdown. */
  close?(): Promise<void>;
}

export const deviceKey = (device: DeviceAddress) => `${device.accountId}:${device.deviceId}`;

export class LocalInboxBus implements InboxBus {
  private readonly listeners = new Map<string, Set<InboxListener>>();
  readonly stats = { published: 0, publishFailures: 0 };

  subscribe(device: DeviceAddress, listener: InboxListener): () => void {
    const key = deviceKey(device);
    let set = this.listeners.get(key);
    if (!set) {
      set = new Set();
      this.listeners.set(key, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(key);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(key);
    };
  }

  publish(device: DeviceAddress, notice: InboxNotice): void {
    this.stats.published += 1;
    const set = this.listeners.get(deviceKey(device));
    if (!set) return;
    for (const listener of set) listener(notice);
  }

  connectedDevices(): number {
    return this.listeners.size;
  }

  /** Whether a stream of `device` is open here (the missed-delivery sweep asks). */
  holds(device: DeviceAddress): boolean {
    return this.listeners.has(deviceKey(device));
  }

  /** Tells `device`'s streams to read their queue again (a plain wake-up). */
  resync(device: DeviceAddress): void {
    const set = this.listeners.get(deviceKey(device));
    if (!set) return;
    for (const listener of set) listener({});
  }
}
