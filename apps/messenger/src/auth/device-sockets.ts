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
  private readonly sockets = new Map<string, Set<WebSocket>>();

  track(device: DeviceAddress, socket: WebSocket): void {
    const key = keyOf(device);
    let set = this.sockets.get(key);
    if (!set) this.sockets.set(key, (set = new Set()));
    set.add(socket);
    socket.once("close", () => {
      set.delete(socket);
      if (set.size === 0 && this.sockets.get(key) === set) this.sockets.delete(key);
    });
  }

  /** Closes every socket of the device on this node (4001: credential replaced); returns how many. */
  disconnect(device: DeviceAddress): number {
    const set = this.sockets.get(keyOf(device));
    if (!set) return 0;
    for (const socket of set) socket.close(4001, "device credential replaced");
    return set.size;
  }
}
