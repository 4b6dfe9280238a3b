/**
 * How a stored envelope reaches the connection of its recipient device.
 *
 * One interface, one implementation per backend. `LocalInboxBus` serves a single
 * node (every connection lives in this process) and hands over the envelopes
 * themselves. `NatsInboxBus` (nats-bus.ts) serves several nodes: it carries only
 * wake-ups, and the stream re-reads the database (see `InboxSubscriptionEvents`).
 */
import type { DeliveredEnvelope } from "@handshake/crypto/wire";

export interface DeviceAddress {
  accountId: string;
  deviceId: number;
}

export type InboxListener = (envelope: DeliveredEnvelope) => void;

/** What a bus between nodes may tell a stream besides handing it envelopes. */
export interface InboxSubscriptionEvents {
  /**
   * Envelopes were stored for this device that the listener was not handed (a
   * wake-up from another node, a bus reconnect, the missed-delivery sweep):
   * re-read the inbox from the database after the stream's cursor. `envelopeId`,
   * when known, lets a stream that already read past it skip the read.
   */
  reread?: (envelopeId?: string) => void;
  /** A newer connection of this device on another node took over: end this stream. */
  displaced?: () => void;
}

export interface InboxBus {
  /** Listen for envelopes stored for `device`; returns the unsubscribe function. */
  subscribe(device: DeviceAddress, listener: InboxListener, events?: InboxSubscriptionEvents): () => void;
  /** Announce envelopes that are already durable in the queue. */
  publish(device: DeviceAddress, envelope: DeliveredEnvelope): void;
  /** Devices with at least one open inbox stream on this node. */
  connectedDevices(): number;
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

  publish(device: DeviceAddress, envelope: DeliveredEnvelope): void {
    const set = this.listeners.get(deviceKey(device));
    if (!set) return;
    for (const listener of set) listener(envelope);
  }

  connectedDevices(): number {
    return this.listeners.size;
  }
}
