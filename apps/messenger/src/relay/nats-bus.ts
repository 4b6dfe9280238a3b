/**
 * The bus between messenger nodes: core NATS (Debian's nats-server), one subject
 * per device, `<prefix>.<accountId>.<deviceId>`. A node subscribes to the subject
 * of every device that has an inbox stream open on it.
 *
 * Local streams get every notice as the in-process bus hands it (`LocalInboxBus`):
 * an envelope with its `previousId` is delivered from memory when it follows the
 * stream's cursor (see `inbox-stream.ts`). Two kinds of message travel on a
 * device's subject to the other nodes:
 *  - an envelope, `{ t: "e", e, p }`, published after the commit that stored
 *    envelope `e` for the device, with its `previousId` `p`: the receiving node
 *    hands its streams the same notice a local stream gets, and a stream whose
 *    cursor is at or past `p` delivers it from memory, without reading the
 *    database (the proof that nothing below it is missing is `p`, computed by the
 *    committing transaction, so it holds on any node). A stream behind `p` — an
 *    earlier message lost (NATS core is at-most-once) or overtaken (two nodes
 *    publish for one device) — re-reads the queue; a duplicate is at or below
 *    the cursor and skipped. Envelopes larger than `maxCarriedBytes` travel as:
 *  - a wake-up, `{ t: "w", id? }` (no id: a duplicate or a commit of unknown
 *    outcome). It carries no envelope, and the receiving node hands its streams a
 *    notice without envelope: they re-read the queue from the database after
 *    their cursor. A lost wake-up costs latency, never an envelope.
 *  - presence, `{ t: "p", node, at }`, published when a stream opens: a newer
 *    stream of a device on another node displaces the older one here exactly as a
 *    newer one on this node does (`presence.ts`: it stops delivering, and its
 *    connection is closed with 4409 unless its client stops it first). Ties on
 *    `at` go to the larger node id. `at` is each node's wall clock, so nodes on
 *    several machines need synchronised clocks (NTP) for "newer" to mean newer.
 *
 * What covers lost wake-ups: the next wake-up for the device (a re-read reads
 * everything after the cursor), a re-read of every local stream after this node's
 * NATS connection comes back (spread over time so the database is not hit by all
 * of them at once), and the missed-delivery sweep (missed-delivery-sweep.ts) for
 * envelopes whose wake-up never went out (a node killed between commit and publish).
 */
import { connect, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import type { DeliveredEnvelope } from "@handshake/crypto/wire";
import type { Logger } from "../log";
import {
  deviceKey,
  type DeviceAddress,
  type InboxBus,
  type InboxListener,
  type InboxNotice,
  type InboxSubscriptionEvents,
} from "./bus";

export interface NatsInboxBusOptions {
  /** e.g. nats://127.0.0.1:4222 (comma-separated for a NATS cluster). */
  url: string;
  /** This node's name; unique among the nodes sharing the bus. */
  nodeId: string;
  logger: Logger;
  /** Subject prefix; nodes of one deployment must agree (default `handshake.inbox`). */
  subjectPrefix?: string;
  /** Streams woken per tick when re-reading everything after a reconnect. */
  resyncBatch?: number;
  /** Longest wait for `ready()` before a stream reads its backlog anyway. */
  readyTimeoutMs?: number;
  /** Envelopes whose base64 content is at most this long travel whole; larger ones as wake-ups (default 16 KiB). */
  maxCarriedBytes?: number;
}

interface LocalStream {
  listener: InboxListener;
  events: InboxSubscriptionEvents | undefined;
  startedAt: number;
}

interface DeviceEntry {
  subscription: Subscription;
  streams: Set<LocalStream>;
}

type BusMessage =
  | { t: "w"; id?: string }
  | { t: "e"; e: DeliveredEnvelope; p: string | null }
  | { t: "p"; node: string; at: number };

/** What a stream gets for a wake-up: no envelope, so it re-reads the queue. */
const REREAD: InboxNotice = {};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class NatsInboxBus implements InboxBus {
  private readonly devices = new Map<string, DeviceEntry>();
  private readonly prefix: string;
  private readonly onDeviceMessage: (error: Error | null, msg: Msg) => void;
  private readonly resyncBatch: number;
  private readonly readyTimeoutMs: number;
  private readonly maxCarriedBytes: number;
  private closed = false;
  /** Counters for tests and metrics (`carried`: envelopes received whole from another node). */
  readonly stats = { published: 0, publishFailures: 0, wakeups: 0, carried: 0, displaced: 0, resyncs: 0 };

  private constructor(
    private readonly nc: NatsConnection,
    private readonly options: NatsInboxBusOptions,
  ) {
    this.prefix = options.subjectPrefix ?? "handshake.inbox";
    this.onDeviceMessage = this.handleDeviceMessage.bind(this);
    this.resyncBatch = options.resyncBatch ?? 500;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 2_000;
    this.maxCarriedBytes = options.maxCarriedBytes ?? 16 * 1024;
    void this.watchStatus();
  }

  /** Connects (waiting for the server if it is not up yet) and returns the bus. */
  static async connect(options: NatsInboxBusOptions): Promise<NatsInboxBus> {
    const nc = await connect({
      servers: options.url.split(","),
      name: `messenger-${options.nodeId}`,
      // This node delivers its own wake-ups locally; the server need not echo them.
      noEcho: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: true,
      // Notice a server that vanished without closing the socket within ~30 s.
      pingInterval: 10_000,
      maxPingOut: 3,
    });
    options.logger.info({ nats: nc.getServer(), nodeId: options.nodeId }, "connected to NATS");
    return new NatsInboxBus(nc, options);
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  subscribe(device: DeviceAddress, listener: InboxListener, events?: InboxSubscriptionEvents): () => void {
    const key = deviceKey(device);
    const subject = this.subject(device);
    let entry = this.devices.get(key);
    if (!entry) {
      const subscription = this.nc.subscribe(subject, { callback: this.onDeviceMessage });
      entry = { subscription, streams: new Set() };
      this.devices.set(key, entry);
    }
    const stream: LocalStream = { listener, events, startedAt: Date.now() };
    entry.streams.add(stream);
    this.send(subject, { t: "p", node: this.options.nodeId, at: stream.startedAt });
    const owned = entry;
    return () => {
      owned.streams.delete(stream);
      if (owned.streams.size > 0 || this.devices.get(key) !== owned) return;
      this.devices.delete(key);
      try {
        owned.subscription.unsubscribe();
      } catch {
        // Closed or draining: the server forgets the subscription with the connection.
      }
    };
  }

  /** Hands `notice` to this node's streams of `device`, and the envelope (or a wake-up) to the other nodes. */
  publish(device: DeviceAddress, notice: InboxNotice): void {
    const entry = this.devices.get(deviceKey(device));
    if (entry) for (const stream of entry.streams) stream.listener(notice);
    const { envelope, previousId } = notice;
    this.send(
      this.subject(device),
      !envelope
        ? { t: "w" }
        : envelope.content.length <= this.maxCarriedBytes && previousId !== undefined
          ? { t: "e", e: envelope, p: previousId }
          : { t: "w", id: envelope.id },
    );
  }

  connectedDevices(): number {
    return this.devices.size;
  }

  async ready(): Promise<void> {
    if (this.nc.isClosed()) return;
    let timer: NodeJS.Timeout | undefined;
    // If NATS is away, don't hold the stream: the re-read after reconnecting covers it.
    await Promise.race([
      this.nc.flush().catch(() => {}),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, this.readyTimeoutMs))),
    ]);
    clearTimeout(timer);
  }

  /** Wakes every local stream of `device` to re-read its inbox (the sweep calls this). */
  resync(device: DeviceAddress): void {
    this.wake(deviceKey(device));
  }

  /**
   * Tells the other nodes an account's consent changed here (a choice recorded), so
   * they drop their cached state of it (storage/consent.ts). At most once, like every
   * bus message: the caches' TTL bounds what a lost one costs.
   */
  announceConsentChange(accountId: string): void {
    try {
      this.nc.publish(this.consentSubject, encoder.encode(accountId));
      this.stats.published += 1;
    } catch (error) {
      this.stats.publishFailures += 1;
      this.options.logger.warn({ err: error }, "NATS publish failed");
    }
  }

  /** Calls `listener` with each account whose consent another node changed. */
  onConsentChange(listener: (accountId: string) => void): () => void {
    const subscription = this.nc.subscribe(this.consentSubject, {
      callback: (error, message) => {
        if (error) return;
        const accountId = decoder.decode(message.data);
        if (/^[0-9a-f-]{36}$/.test(accountId)) listener(accountId);
      },
    });
    return () => subscription.unsubscribe();
  }

  private get consentSubject(): string {
    return `${this.prefix}-changes.consent`;
  }

  /** Whether this node holds an inbox stream of `device`. */
  holds(device: DeviceAddress): boolean {
    return this.devices.has(deviceKey(device));
  }

  /** Every local stream re-reads its inbox, `resyncBatch` streams per tick. */
  async resyncAll(): Promise<void> {
    this.stats.resyncs += 1;
    const keys = [...this.devices.keys()];
    for (let i = 0; i < keys.length && !this.closed; i += this.resyncBatch) {
      for (const key of keys.slice(i, i + this.resyncBatch)) this.wake(key);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }

  private subject(device: DeviceAddress): string {
    return `${this.prefix}.${device.accountId}.${device.deviceId}`;
  }

  private send(subject: string, message: BusMessage): void {
    try {
      this.nc.publish(subject, encoder.encode(JSON.stringify(message)));
      this.stats.published += 1;
    } catch (error) {
      // Closed or draining: the envelope is durable; the sweep or a later wake-up delivers it.
      this.stats.publishFailures += 1;
      this.options.logger.warn({ err: error }, "NATS publish failed");
    }
  }

  /** Every local stream of the device re-reads its queue from the database. */
  private wake(key: string): void {
    const entry = this.devices.get(key);
    if (!entry) return;
    for (const stream of entry.streams) {
      this.stats.wakeups += 1;
      stream.listener(REREAD);
    }
  }

  /**
   * The callback of every device's subscription: one bound method for all, not a closure
   * per device (under tsx each named closure carries a ~256 B `__name` dictionary).
   * `<prefix>.<accountId>.<deviceId>` -> `<accountId>:<deviceId>` (`deviceKey`).
   */
  private handleDeviceMessage(error: Error | null, msg: Msg): void {
    if (error) {
      this.options.logger.warn({ err: error }, "NATS subscription error");
      return;
    }
    const device = msg.subject.slice(this.prefix.length + 1);
    const dot = device.lastIndexOf(".");
    this.onMessage(`${device.slice(0, dot)}:${device.slice(dot + 1)}`, msg.data);
  }

  private onMessage(key: string, data: Uint8Array): void {
    let message: BusMessage;
    try {
      message = JSON.parse(Buffer.from(data).toString("utf8")) as BusMessage;
    } catch {
      this.options.logger.warn({ bytes: data.length }, "unreadable message on the inbox bus");
      return;
    }
    if (message.t === "w") {
      this.wake(key);
      return;
    }
    if (message.t === "e") {
      const entry = this.devices.get(key);
      if (!entry) return;
      // Anything malformed is still worth a look in the queue.
      const valid = typeof message.e?.id === "string" && /^[1-9][0-9]*$/.test(message.e.id) && (message.p === null || typeof message.p === "string");
      if (!valid) return this.wake(key);
      const notice: InboxNotice = { envelope: message.e, previousId: message.p };
      for (const stream of entry.streams) {
        this.stats.carried += 1;
        stream.listener(notice);
      }
      return;
    }
    if (message.t !== "p" || message.node === this.options.nodeId) return;
    const entry = this.devices.get(key);
    if (!entry) return;
    for (const stream of entry.streams) {
      const older = stream.startedAt < message.at || (stream.startedAt === message.at && this.options.nodeId < message.node);
      if (!older) continue;
      this.stats.displaced += 1;
      stream.events?.displaced?.();
    }
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === "disconnect") {
        this.options.logger.warn({ nodeId: this.options.nodeId }, "NATS disconnected; delivery falls back to database re-reads");
      } else if (status.type === "reconnect") {
        this.options.logger.info({ nodeId: this.options.nodeId, streams: this.devices.size }, "NATS reconnected; every stream re-reads its inbox");
        void this.resyncAll();
      }
    }
  }
}
