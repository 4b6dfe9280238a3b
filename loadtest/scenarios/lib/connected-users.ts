/**
 * A group of connected sample users held by one VU: each keeps its inbox open,
 * acks what arrives, and sends at its share of the sample's message rate.
 *
 * Why not k6's constant-arrival-rate executor for sends: VUs share no memory, and
 * the delivered ratio needs the sender to match its messages with the delivery
 * receipts the recipients' acks produce, on the sender's own socket. Each VU
 * therefore runs an open-loop Poisson schedule for its users (the next send never
 * waits for the previous answer), which keeps the arrival rate independent of the
 * server's response time, as constant-arrival-rate does.
 */
import { check } from "k6";
import { SharedArray } from "k6/data";
import { setTimeout } from "k6/timers";
import { config } from "./config.ts";
import { drawSize, sentAtOf, timestampedContent, uuid } from "./content.ts";
import { outsideRecipient, users, type FixtureUser } from "./fixtures.ts";
import { InboxConnection, type Envelope } from "./inbox-connection.ts";
import {
  connectLatency,
  deliveryLatency,
  delivered,
  errors,
  messagesReceived,
  messagesSent,
  receiptLatency,
} from "./metrics.ts";
import { mutate } from "./trpc-http.ts";

export const RECEIPT = 5;

export const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Who holds a connection and which VU holds whom. Built once per k6 process (a
 * SharedArray's builder runs once; reading a SharedArray element parses it), so a
 * VU reads only its own group and a small index instead of walking every user.
 */
export interface ConnectedLayout {
  size: number;
  vus: number;
  /** Sum of the connected users' messages per day (send weights). */
  totalWeight: number;
  groupOf(slot: number): number[];
  has(index: number): boolean;
  random(): number;
}

interface LayoutMeta {
  size: number;
  totalWeight: number;
  /** First user index of each group (groups hold ascending indexes). */
  firsts: number[];
}

const weightOf = (i: number) => Math.max(0.1, users[i]!.messagesPerDay);

/** `build` returns the connected users' indexes in ascending order; it runs once per process. */
export function layoutOf(name: string, build: () => number[]): ConnectedLayout {
  const stored = new SharedArray<LayoutMeta | number[]>(name, () => {
    const connected = build();
    const groups: number[][] = [];
    for (let at = 0; at < connected.length; at += config.usersPerVu) groups.push(connected.slice(at, at + config.usersPerVu));
    let totalWeight = 0;
    for (const i of connected) totalWeight += weightOf(i);
    const meta: LayoutMeta = { size: connected.length, totalWeight, firsts: groups.map((g) => g[0]!) };
    return [meta, ...groups];
  });
  const meta = stored[0] as LayoutMeta;
  const group = (slot: number) => (slot >= 0 && slot < meta.firsts.length ? (stored[slot + 1] as number[]) : []);
  return {
    size: meta.size,
    vus: Math.max(1, meta.firsts.length),
    totalWeight: meta.totalWeight,
    groupOf: group,
    has(index) {
      let lo = 0;
      let hi = meta.firsts.length - 1;
      if (hi < 0 || index < meta.firsts[0]!) return false;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (meta.firsts[mid]! <= index) lo = mid;
        else hi = mid - 1;
      }
      return group(lo).includes(index);
    },
    random() {
      const members = group(Math.floor(Math.random() * meta.firsts.length));
      return members[Math.floor(Math.random() * members.length)]!;
    },
  };
}

/** The first `count` non-business users of the sample (population order is a uniform sample). */
export function firstPeople(count: number): () => number[] {
  return () => {
    const out: number[] = [];
    for (let i = 0; i < users.length && out.length < count; i++) if (!users[i]!.business) out.push(i);
    return out;
  };
}

interface PendingSend {
  sentAt: number;
}

export interface GroupOptions {
  group: number[];
  layout: ConnectedLayout;
  /** Tag for a latency sample by its send time (e.g. live vs backlog in the reconnect storm). */
  phase?: (sentAtMs: number) => string;
  /**
   * Keep sending while a sender's socket is down (HTTP needs no socket): the
   * reconnect storm uses this so messages queue for offline recipients, standing
   * in for the senders outside the sample who keep writing to them.
   */
  sendWhileOffline?: boolean;
  /** Sees every envelope a group member receives (scenario-specific checks). */
  inspect?: (recipientIndex: number, envelope: Envelope) => void;
}

export class ConnectedGroup {
  readonly connections = new Map<number, InboxConnection>();
  private readonly pending = new Map<string, PendingSend>();
  private readonly weights: number[];
  private readonly totalWeight: number;
  private sending = false;

  constructor(private readonly options: GroupOptions) {
    let sum = 0;
    this.weights = options.group.map((i) => (sum += weightOf(i)));
    this.totalWeight = sum;
  }

  /** This group's share of the sample's send rate (by messages per day). */
  sendRate(): number {
    const all = this.options.layout.totalWeight;
    return all === 0 ? 0 : (config.messagesPerSecond * this.totalWeight) / all;
  }

  /** Opens every connection (spread over `spreadMs`) and waits until each is started or failed. */
  async connect(spreadMs = 1000, resume?: Map<number, { lastEventId: string | null; unacked: string[] }>): Promise<void> {
    const opened: Promise<void>[] = [];
    const step = this.options.group.length > 0 ? spreadMs / this.options.group.length : 0;
    for (const index of this.options.group) {
      opened.push(
        new Promise<void>((resolve) => {
          const user = users[index]!;
          const connection = new InboxConnection(
            user.credential,
            {
              onStarted: () => {
                for (const id of resume?.get(index)?.unacked ?? []) connection.ack(id);
                connectLatency.add(Date.now() - connection.openedAt);
                errors.add(false, { what: "connect" });
                resolve();
              },
              onEnvelope: (envelope) => this.onEnvelope(index, connection, envelope),
              onError: (what, error) => {
                errors.add(true, { what });
                check(error, { [`${what} answered without error`]: () => false });
                if (!connection.started) resolve();
              },
              onClose: () => resolve(),
            },
            { lastEventId: resume?.get(index)?.lastEventId ?? null },
          );
          this.connections.set(index, connection);
        }),
      );
      if (step >= 1) await sleepMs(step);
    }
    await Promise.all(opened);
  }

  private onEnvelope(index: number, connection: InboxConnection, envelope: Envelope) {
    connection.ack(envelope.id);
    this.options.inspect?.(index, envelope);
    if (envelope.type === RECEIPT) {
      const sent = this.pending.get(envelope.messageId);
      if (sent) {
        this.pending.delete(envelope.messageId);
        delivered.add(true);
        receiptLatency.add(Date.now() - sent.sentAt);
      }
      return;
    }
    messagesReceived.add(1);
    const sentAt = sentAtOf(envelope.content);
    if (sentAt !== null) deliveryLatency.add(Date.now() - sentAt, this.options.phase ? { phase: this.options.phase(sentAt) } : {});
  }

  /** Picks whom `sender` writes to: a connected sample user (delivered) or an outside contact (stored only). */
  private recipientFor(sender: FixtureUser, senderIndex: number): { accountId: string; deviceId: number; expectReceipt: boolean } {
    const layout = this.options.layout;
    if (Math.random() < config.deliveredShare && layout.size > 1) {
      const inside = sender.contacts.filter((c) => c !== senderIndex && layout.has(c));
      let pick = inside.length > 0 ? inside[Math.floor(Math.random() * inside.length)]! : senderIndex;
      while (pick === senderIndex) pick = layout.random();
      const user = users[pick]!;
      return { accountId: user.accountId, deviceId: user.deviceId, expectReceipt: true };
    }
    const outside = sender.outsideContacts;
    const contactId = outside.length > 0 ? outside[Math.floor(Math.random() * outside.length)]! : sender.i;
    return { ...outsideRecipient(contactId), expectReceipt: false };
  }

  private pickSender(): number {
    const u = Math.random() * this.totalWeight;
    let lo = 0;
    let hi = this.weights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.weights[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return this.options.group[lo]!;
  }

  async sendOne(): Promise<void> {
    const index = this.pickSender();
    const sender = users[index]!;
    const connection = this.connections.get(index);
    const offline = !connection || connection.closed || connection.closing;
    if (offline && !this.options.sendWhileOffline) return; // offline users do not send
    const to = this.recipientFor(sender, index);
    const messageId = uuid();
    const sentAt = Date.now();
    if (to.expectReceipt) this.pending.set(messageId, { sentAt });
    const result = await mutate<{ envelopeId: string }>(
      "message.send",
      { messageId, recipient: { accountId: to.accountId, deviceId: to.deviceId }, type: 1, content: timestampedContent(drawSize(), sentAt) },
      { credential: sender.credential },
    );
    messagesSent.add(1, { to: to.expectReceipt ? "connected" : "outside" });
    errors.add(!result.ok, { what: "message.send" });
    check(result, { "message.send accepted": (r) => r.ok });
    if (!result.ok) this.pending.delete(messageId);
  }

  /** Sends on an open-loop Poisson schedule until `untilMs` (epoch ms). */
  async sendUntil(untilMs: number): Promise<void> {
    const rate = this.sendRate();
    if (rate <= 0) return;
    this.sending = true;
    const inFlight: Promise<void>[] = [];
    let next = Date.now();
    while (this.sending) {
      next += (-Math.log(1 - Math.random()) / rate) * 1000;
      if (next >= untilMs) break;
      const wait = next - Date.now();
      if (wait > 0) await sleepMs(wait);
      inFlight.push(this.sendOne());
      if (inFlight.length > 256) await Promise.all(inFlight.splice(0, inFlight.length));
    }
    await Promise.all(inFlight);
  }

  /**
   * Waits up to `graceMs` for outstanding receipts, then counts the rest as undelivered.
   * Stays connected at least `lingerMs` even with nothing pending: other VUs' last
   * messages to this group still need to arrive and be acked for their receipts.
   */
  async settle(graceMs: number, lingerMs = 3000): Promise<void> {
    const start = Date.now();
    while ((this.pending.size > 0 && Date.now() < start + graceMs) || Date.now() < start + lingerMs) await sleepMs(100);
    for (let n = 0; n < this.pending.size; n++) delivered.add(false);
    this.pending.clear();
  }

  closeAll(): void {
    for (const connection of this.connections.values()) connection.close();
  }
}
