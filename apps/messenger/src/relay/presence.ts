/**
 * The inbox streams open on this node: how many a connection may hold, which one
 * speaks for a device, and which must end because their account lost service.
 *
 * - A connection (one WebSocket, one device credential) holds at most
 *   `streamsPerConnection` inbox streams (default 1: every stream on a socket
 *   carries the same device's envelopes, so a second one only doubles the
 *   traffic). Beyond that `inbox.stream` is refused with TOO_MANY_REQUESTS before
 *   any database work, so a flood of subscriptions costs an error frame each.
 * - A device has one live stream on this node, and with several nodes one in
 *   all: a newer one, on another connection here or on another node (the bus
 *   tells, see `nats-bus.ts`), displaces the older, as Signal-Server's presence
 *   does: the older stops delivering at once, and its connection is closed with code 4409 after
 *   `displaceGraceMs` unless its client stops that stream first. tRPC's client
 *   does exactly that when it moves a subscription to a new socket (after a
 *   reconnect notice), so a move never loses the subscription, and a socket the
 *   server had not yet noticed was dead (a phone that changed networks) is freed.
 * - A stream ends, with the refusal as its error, when its account may no longer
 *   use the service: `clockMoved()` (the admin moved the simulation clock) and a
 *   timer at the next moment the rules can change (the acceptance deadline)
 *   re-check every open stream, and each stream re-checks before it delivers
 *   once that moment has passed, so no envelope reaches it afterwards. Its queue is kept.
 */
import { TRPCError } from "@trpc/server";
import type { WebSocket } from "ws";
import type { Logger } from "../log";
import { deviceKey, type DeviceAddress } from "./bus";

/** Close code of a connection whose device opened a newer inbox stream elsewhere (Signal uses 4409 too). */
export const DISPLACED_CLOSE_CODE = 4409;

export interface PresenceOptions {
  streamsPerConnection?: number;
  displaceGraceMs?: number;
}

export interface ServiceGate {
  /** The accounts among `accountIds` that may not use the service now, each with the error to end its stream with. */
  refusals(accountIds: string[]): Promise<Map<string, TRPCError>>;
  /** Simulated epoch ms of the next moment a refusal can start by the clock alone (Infinity: none). */
  nextChangeAt(): number;
  /** Simulated now, epoch ms. */
  now(): number;
}

/** One open inbox stream's place in the presence map. */
export class InboxLease {
  /** A newer stream of the same device took over: deliver nothing more. */
  displaced = false;
  /** Why the stream must end (thrown by the stream to its client). */
  ended: TRPCError | null = null;
  released = false;
  /** The stream's wake-up, called when `displaced` or `ended` changes. */
  onChange: (() => void) | null = null;
  displaceTimer: NodeJS.Timeout | null = null;
  private checkedEpoch: number;

  constructor(
    private readonly presence: InboxPresence,
    readonly device: DeviceAddress,
    readonly connection: WebSocket | null,
  ) {
    this.checkedEpoch = presence.epoch;
  }

  /** Ends the stream with `error` (it throws it at its next step). */
  end(error: TRPCError): void {
    if (this.ended || this.released) return;
    this.ended = error;
    this.onChange?.();
  }

  /** True when the stream must call `ensureService()` before it delivers again. */
  mustCheck(): boolean {
    return this.ended !== null || this.checkedEpoch !== this.presence.epoch || this.presence.gate.now() >= this.presence.nextChangeAt;
  }

  /**
   * Resolves when the stream may deliver; throws the refusal when its account may
   * no longer use the service (`mustCheck()` says when this is worth calling).
   */
  async ensureService(): Promise<void> {
    if (this.ended) throw this.ended;
    if (!this.mustCheck()) return;
    const gate = this.presence.gate;
    const refusal = (await gate.refusals([this.device.accountId])).get(this.device.accountId);
    if (refusal) {
      this.end(refusal);
      throw refusal;
    }
    this.checkedEpoch = this.presence.epoch;
  }

  /** A newer stream of this device opened on another node (the bus says so): displaced as by one here. */
  displacedElsewhere(): void {
    this.presence.displace(this);
  }

  release(): void {
    this.presence.release(this);
  }

  /**
   * As the subscription signal's "abort" listener: releases (and `onChange` wakes the stream).
   * The stream's only listener on the signal: Node 20 wraps each listener object in a closure.
   */
  handleEvent(): void {
    this.release();
  }
}

export class InboxPresence {
  private readonly live = new Map<string, InboxLease>();
  /** Each connection's open leases: a small array (usually one), not a Set per connection. */
  private readonly perConnection = new Map<WebSocket, InboxLease[]>();
  /** One "close" listener for every connection (`this` is the socket), not a closure per connection. */
  private readonly onConnectionClose: (this: WebSocket) => void;
  private readonly streamsPerConnection: number;
  private readonly displaceGraceMs: number;
  private timer: NodeJS.Timeout | null = null;
  /** Bumped whenever open streams must re-check their service (clock moved or a deadline passed). */
  epoch = 0;
  nextChangeAt: number;

  constructor(
    readonly gate: ServiceGate,
    private readonly logger: Logger,
    options: PresenceOptions = {},
  ) {
    this.streamsPerConnection = options.streamsPerConnection ?? 1;
    this.displaceGraceMs = options.displaceGraceMs ?? 2_000;
    this.nextChangeAt = gate.nextChangeAt();
    this.arm();
    const perConnection = this.perConnection;
    this.onConnectionClose = function (this: WebSocket) {
      for (const l of [...(perConnection.get(this) ?? [])]) l.release();
      perConnection.delete(this);
    };
  }

  /**
   * Registers a new stream for `device` on `connection`, displacing the device's
   * older stream; refuses when the connection already holds its share.
   */
  open(device: DeviceAddress, connection: WebSocket | null): InboxLease {
    if (connection) {
      const held = this.perConnection.get(connection);
      if (held && held.length >= this.streamsPerConnection) {
        throw new TRPCError({
          code: "TOO_MANY_REQUESTS",
          message:
            `this connection already has ${held.length} open inbox stream(s), the most one connection may hold; ` +
            "stop it before opening another (one stream carries all of this device's envelopes)",
        });
      }
    }
    const lease = new InboxLease(this, device, connection);
    const key = deviceKey(device);
    const older = this.live.get(key);
    if (older) this.displace(older);
    this.live.set(key, lease);
    if (connection) {
      let held = this.perConnection.get(connection);
      if (!held) {
        held = [];
        this.perConnection.set(connection, held);
        // `on`, not `once`: a socket closes once, and `once` wraps the listener per socket.
        connection.on("close", this.onConnectionClose);
      }
      held.push(lease);
    }
    return lease;
  }

  release(lease: InboxLease): void {
    if (lease.released) return;
    lease.released = true;
    if (lease.displaceTimer) clearTimeout(lease.displaceTimer);
    const key = deviceKey(lease.device);
    if (this.live.get(key) === lease) this.live.delete(key);
    if (lease.connection) {
      const held = this.perConnection.get(lease.connection);
      const at = held ? held.indexOf(lease) : -1;
      if (at >= 0) held!.splice(at, 1);
    }
    lease.onChange?.();
  }

  /** Open streams on this node (live ones; displaced ones are on their way out). */
  openStreams(): number {
    return this.live.size;
  }

  /** The simulation clock was moved: every stream re-checks now and before its next delivery. */
  clockMoved(): Promise<void> {
    return this.recheck();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const lease of this.live.values()) if (lease.displaceTimer) clearTimeout(lease.displaceTimer);
  }

  /** Stops `lease` delivering and closes its connection after the grace (by a newer stream here or on another node). */
  displace(lease: InboxLease): void {
    if (lease.displaced || lease.released) return;
    lease.displaced = true;
    const key = deviceKey(lease.device);
    if (this.live.get(key) === lease) this.live.delete(key);
    lease.onChange?.();
    const connection = lease.connection;
    if (!connection) return;
    lease.displaceTimer = setTimeout(() => {
      if (lease.released || connection.readyState !== connection.OPEN) return;
      this.logger.info({ accountId: lease.device.accountId, deviceId: lease.device.deviceId }, "inbox stream displaced by a newer one");
      connection.close(DISPLACED_CLOSE_CODE, "displaced: this device opened an inbox stream on another connection");
    }, this.displaceGraceMs);
    lease.displaceTimer.unref();
  }

  /** Ends every open stream whose account may no longer use the service. */
  private async recheck(): Promise<void> {
    this.epoch += 1;
    this.nextChangeAt = this.gate.nextChangeAt();
    this.arm();
    const leases = [...this.live.values()];
    for (let i = 0; i < leases.length; i += 1000) {
      const chunk = leases.slice(i, i + 1000);
      try {
        const refusals = await this.gate.refusals([...new Set(chunk.map((l) => l.device.accountId))]);
        for (const lease of chunk) {
          const refusal = refusals.get(lease.device.accountId);
          if (refusal) lease.end(refusal);
        }
      } catch (err) {
        // Each stream still re-checks before it delivers (the epoch moved).
        this.logger.error({ err }, "re-checking open inbox streams failed");
      }
    }
  }

  /** A timer at the next moment the rules can change by the clock alone (the sim clock runs at real speed). */
  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const delay = this.nextChangeAt - this.gate.now();
    if (!Number.isFinite(delay)) return;
    // setTimeout takes at most 2^31-1 ms (~24.8 days); a longer wait re-arms on the way.
    this.timer = setTimeout(() => void this.recheck(), Math.min(Math.max(delay, 0), 2 ** 31 - 1));
    this.timer.unref();
  }
}
