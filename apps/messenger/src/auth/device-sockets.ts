/**
 * The WebSockets this node holds per device, so that a device whose credential
 * was replaced (a new phone took over the number) is disconnected at once: its
 * connection was authenticated when it opened, and would otherwise keep
 * receiving — and acknowledging — envelopes meant for the new device.
 * Sockets on other nodes are not reached (see README, "Registration").
 */
import type { WebSocket } from "ws";
import type { DeviceAddress } from "../relay/bus";

const keyOf = (device: DeviceAddress) => `${device.accountId}.${device.deviceId}`;

export class DeviceSockets {
  /** One socket per device as a rule; a Set only while a device holds several here. */
  private readonly sockets = new Map<string, WebSocket | Set<WebSocket>>();
  private readonly keys = new WeakMap<WebSocket, string>();
  /**
   * One "close" listener for every socket (`this` is the socket), not a closure and
   * a `once` wrapper per socket: idle connections are the relay's memory (see
   * relay/inbox-stream.ts).
   */
  private readonly onClose: (this: WebSocket) => void;

  constructor() {
    this.onClose = DeviceSockets.closeListener(this);
  }

  private static closeListener(sockets: DeviceSockets): (this: WebSocket) => void {
    return function (this: WebSocket) {
      const key = sockets.keys.get(this);
      if (key === undefined) return;
      sockets.keys.delete(this);
      sockets.forget(this, key);
    };
  }

  track(device: DeviceAddress, socket: WebSocket): void {
    const key = keyOf(device);
    const known = this.keys.get(socket);
    if (known === key) return;
    if (known === undefined) socket.on("close", this.onClose);
    else this.forget(socket, known);
    this.keys.set(socket, key);
    const held = this.sockets.get(key);
    if (held === undefined) this.sockets.set(key, socket);
    else if (held instanceof Set) held.add(socket);
    else if (held !== socket) this.sockets.set(key, new Set([held, socket]));
  }

  /** Closes every socket of the device on this node (4001: credential replaced); returns how many. */
  disconnect(device: DeviceAddress): number {
    const held = this.sockets.get(keyOf(device));
    if (!held) return 0;
    const all = held instanceof Set ? [...held] : [held];
    for (const socket of all) socket.close(4001, "device credential replaced");
    return all.length;
  }

  private forget(socket: WebSocket, key: string): void {
    const held = this.sockets.get(key);
    if (held === socket) this.sockets.delete(key);
    else if (held instanceof Set) {
      held.delete(socket);
      if (held.size === 0) this.sockets.delete(key);
    }
  }
}
