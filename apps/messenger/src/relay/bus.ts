/**
 * How a stored envelope reaches the connection of its recipient device.
 *
 * One interface, one implementation per backend. `LocalInboxBus` serves a single
 * node (every connection lives in this process). Several nodes need a real bus
 * between them — PostgreSQL LISTEN/NOTIFY per shard database, or NATS — behind
 * this same interface; never a home-made one.
 */
import type { DeliveredEnvelope } from "@handshake/crypto/wire";

export interface DeviceAddress {
  accountId: string;
  deviceId: number;
}

export type InboxListener = (envelope: DeliveredEnvelope) => void;

export interface InboxBus {
  /** Listen for envelopes stored for `device`; returns the unsubscribe function. */
  subscribe(device: DeviceAddress, listener: InboxListener): () => void;
  /** Announce envelopes that are already durable in the queue. */
  publish(device: DeviceAddress, envelope: DeliveredEnvelope): void;
  /** Devices with at least one open inbox stream on this node. */
  connectedDevices(): number;
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
