/**
 * Senders → recipients through the client SDK: real libsignal sessions, real
 * WebSockets for the recipients. Each sender sends its messages one after the
 * other (the next only once the server acknowledged the previous), so "in order"
 * is well defined per pair; a failed send is retried with the same message id,
 * as a phone does, until the server acknowledges it or the sender gives up.
 *
 * Everything both ends saw is kept in a ledger: what the server acknowledged to
 * each sender, what each recipient decrypted, in which order.
 */
import { randomUUID } from "node:crypto";
import { HandshakeDevice } from "@handshake/client";
import { backoff, sleep, withTimeout } from "./timing";

export interface SentRecord {
  messageId: string;
  sender: number;
  seq: number;
  recipientAccountId: string;
  /** Set once the server acknowledged it (the `message.send` call returned). */
  acknowledged: boolean;
  /** The acknowledgement said `duplicate: true` (an earlier attempt had been stored). */
  answeredDuplicate: boolean;
  attempts: number;
  /** Why the last failed attempt failed (for the report when a sender gives up). */
  lastError?: string;
}

export interface DeliveredRecord {
  messageId: string;
  envelopeId: string;
  sender: number;
  seq: number;
  at: number;
}

export interface RecipientRecord {
  accountId: string;
  delivered: DeliveredRecord[];
  /** Envelopes the SDK could not decrypt or acknowledge, and stream errors. */
  failures: { envelopeId: string; message: string }[];
}

export interface MessagingLedger {
  sent: SentRecord[];
  recipients: RecipientRecord[];
  senderAccountIds: string[];
}

export interface MessagingOptions {
  /** tRPC URL of the messenger. */
  url: string;
  label: string;
  pairs: number;
  /** Phone numbers are `prefix` + a counter (unique per run). */
  phones: () => string;
  /** Pause between two messages of one sender. */
  intervalMs: number;
  /** Give up on one message after this long without an acknowledgement. */
  giveUpMs: number;
}

const TEXT_PREFIX = "fault-suite";

/** What a message says: enough to recognise its sender and place in the sender's sequence. */
function messageText(label: string, sender: number, seq: number): string {
  return `${TEXT_PREFIX}:${label}:${sender}:${seq}`;
}

function parseText(text: string): { sender: number; seq: number } | null {
  const parts = text.split(":");
  if (parts.length !== 4 || parts[0] !== TEXT_PREFIX) return null;
  return { sender: Number(parts[2]), seq: Number(parts[3]) };
}

export class MessagingLoad {
  readonly ledger: MessagingLedger;
  private running = false;
  private loops: Promise<void>[] = [];
  private readers: Promise<void>[] = [];

  private constructor(
    private readonly options: MessagingOptions,
    readonly senders: HandshakeDevice[],
    readonly recipients: HandshakeDevice[],
  ) {
    this.ledger = {
      sent: [],
      recipients: recipients.map((r) => ({ accountId: r.accountId, delivered: [], failures: [] })),
      senderAccountIds: senders.map((s) => s.accountId),
    };
  }

  /** Registers the senders and recipients (recipients publish keys; senders need none). */
  static async register(options: MessagingOptions): Promise<MessagingLoad> {
    const senders: HandshakeDevice[] = [];
    const recipients: HandshakeDevice[] = [];
    for (let i = 0; i < options.pairs; i++) {
      const [sender, recipient] = await Promise.all([
        HandshakeDevice.register({ url: options.url, phoneNumber: options.phones(), oneTimePreKeys: 0 }),
        HandshakeDevice.register({ url: options.url, phoneNumber: options.phones(), oneTimePreKeys: 2 }),
      ]);
      senders.push(sender);
      recipients.push(recipient);
    }
    return new MessagingLoad(options, senders, recipients);
  }

  get accountIds(): string[] {
    return [...this.senders, ...this.recipients].map((d) => d.accountId);
  }

  /** Connects the recipients (WebSocket, inbox stream) and starts reading what they decrypt. */
  async connectRecipients(): Promise<void> {
    await Promise.all(this.recipients.map((r) => r.connect()));
    this.readers = this.recipients.map((device, i) => this.read(device, this.ledger.recipients[i]!));
  }

  private async read(device: HandshakeDevice, record: RecipientRecord): Promise<void> {
    let failuresSeen = 0;
    for await (const message of device.messages()) {
      const parsed = parseText(message.text);
      record.delivered.push({
        messageId: message.messageId,
        envelopeId: message.envelopeId,
        sender: parsed?.sender ?? -1,
        seq: parsed?.seq ?? -1,
        at: Date.now(),
      });
      for (; failuresSeen < device.failures.length; failuresSeen++) {
        const failure = device.failures[failuresSeen]!;
        record.failures.push({ envelopeId: failure.envelopeId, message: failure.error.message });
      }
    }
  }

  /** Starts every sender's loop. */
  start(): void {
    this.running = true;
    this.loops = this.senders.map((sender, i) => this.sendLoop(sender, i));
  }

  /** Stops starting new messages and waits for the ones in flight (each bounded by `giveUpMs`). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Closes the recipients' sockets (what they decrypted stays in the ledger). */
  async close(): Promise<void> {
    for (let i = 0; i < this.recipients.length; i++) {
      const device = this.recipients[i]!;
      await withTimeout(device.close(), 5_000).catch(() => {});
      const record = this.ledger.recipients[i]!;
      for (const failure of device.failures.slice(record.failures.length)) {
        record.failures.push({ envelopeId: failure.envelopeId, message: failure.error.message });
      }
    }
  }

  acknowledgedCount(): number {
    return this.ledger.sent.filter((s) => s.acknowledged).length;
  }

  private async sendLoop(sender: HandshakeDevice, index: number): Promise<void> {
    const recipient = this.recipients[index % this.recipients.length]!;
    for (let seq = 0; this.running; seq++) {
      const record: SentRecord = {
        messageId: randomUUID(),
        sender: index,
        seq,
        recipientAccountId: recipient.accountId,
        acknowledged: false,
        answeredDuplicate: false,
        attempts: 0,
      };
      this.ledger.sent.push(record);
      await this.sendUntilAcknowledged(sender, recipient.accountId, record);
      if (!record.acknowledged) return; // gave up: the server is not coming back in time
      await sleep(this.options.intervalMs);
    }
  }

  private async sendUntilAcknowledged(sender: HandshakeDevice, to: string, record: SentRecord): Promise<void> {
    const deadline = Date.now() + this.options.giveUpMs;
    const text = messageText(this.options.label, record.sender, record.seq);
    while (Date.now() < deadline) {
      record.attempts += 1;
      try {
        // Same message id on every attempt: the server must store it once, however often it is sent.
        const result = await withTimeout(sender.send(to, text, { messageId: record.messageId }), 10_000);
        record.acknowledged = true;
        record.answeredDuplicate = result.duplicate;
        return;
      } catch (error) {
        record.lastError = error instanceof Error ? error.message : String(error);
        await sleep(backoff(record.attempts));
      }
    }
  }
}
