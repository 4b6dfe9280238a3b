/** One simulated phone: account, keys, connection, encrypted conversation. */
import { randomUUID } from "node:crypto";
import { EnvelopeType, SignalDevice, type DeliveredEnvelope } from "@handshake/crypto";
import { createMessengerClient, type MessengerClient } from "./trpc-client";

export interface DeviceInfo {
  os: "android" | "ios" | "other";
  osVersion: string;
  appVersion: string;
  model: string;
}

export interface ReceivedMessage {
  envelopeId: string;
  messageId: string;
  from: { accountId: string; deviceId: number };
  /** 1 = Signal message, 3 = PreKey message (first of a session). */
  type: number;
  text: string;
  serverTimestamp: number;
}

export interface DeliveryReceipt {
  /** The id of the message the recipient acknowledged. */
  messageId: string;
  by: { accountId: string; deviceId: number };
  serverTimestamp: number;
}

export interface RegisterOptions {
  /** Base URL of the messenger's tRPC endpoint, e.g. http://127.0.0.1:4100/trpc */
  url: string;
  phoneNumber: string;
  device?: Partial<DeviceInfo>;
  kind?: "personal" | "business";
  displayName?: string;
  /** One-time prekeys to publish right after registering (0 to skip key upload). */
  oneTimePreKeys?: number;
}

const defaultDevice: DeviceInfo = { os: "android", osVersion: "6.0.1", appVersion: "2.16.260", model: "Samsung SM-G920F" };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An unbounded queue read as an async iterator (the test/demo device reads everything). */
class Channel<T> {
  private items: T[] = [];
  private waiters: ((result: IteratorResult<T>) => void)[] = [];
  private ended = false;

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter({ value: item, done: false });
    else this.items.push(item);
  }

  end(): void {
    this.ended = true;
    for (const waiter of this.waiters.splice(0)) waiter({ value: undefined, done: true });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.ended) return;
      const next = await new Promise<IteratorResult<T>>((resolve) => this.waiters.push(resolve));
      if (next.done) return;
      yield next.value;
    }
  }
}

export class HandshakeDevice {
  readonly accountId: string;
  readonly deviceId: number;
  readonly credential: string;
  readonly phoneNumber: string;
  readonly signal: SignalDevice;
  /** tRPC over HTTP until `connect()`, then over the WebSocket. */
  api: MessengerClient;
  private readonly url: string;
  private closeSocket: (() => Promise<void>) | null = null;
  private unsubscribe: (() => void) | null = null;
  private incoming = new Channel<ReceivedMessage>();
  private receiptChannel = new Channel<DeliveryReceipt>();
  private processing: Promise<void> = Promise.resolve();
  /** Envelopes that could not be decrypted (acknowledged anyway, so the queue moves on). */
  readonly failures: { envelopeId: string; error: Error }[] = [];
  /** The last envelope id this device processed (for observing resumption). */
  lastEnvelopeId: string | null = null;

  private constructor(init: {
    url: string;
    accountId: string;
    deviceId: number;
    credential: string;
    phoneNumber: string;
    signal: SignalDevice;
  }) {
    this.url = init.url;
    this.accountId = init.accountId;
    this.deviceId = init.deviceId;
    this.credential = init.credential;
    this.phoneNumber = init.phoneNumber;
    this.signal = init.signal;
    this.api = createMessengerClient({ url: init.url, credential: init.credential }).client;
  }

  get address() {
    return { accountId: this.accountId, deviceId: this.deviceId };
  }

  /** Registers a new account and (by default) publishes 20 one-time prekeys. */
  static async register(options: RegisterOptions): Promise<HandshakeDevice> {
    const anonymous = createMessengerClient({ url: options.url }).client;
    const registered = await anonymous.account.register.mutate({
      phoneNumber: options.phoneNumber,
      kind: options.kind ?? "personal",
      ...(options.displayName ? { displayName: options.displayName } : {}),
      device: { ...defaultDevice, ...options.device },
    });
    const signal = await SignalDevice.create({
      address: { accountId: registered.accountId, deviceId: registered.deviceId },
    });
    const device = new HandshakeDevice({
      url: options.url,
      accountId: registered.accountId,
      deviceId: registered.deviceId,
      credential: registered.credential,
      phoneNumber: registered.phoneNumber,
      signal,
    });
    const count = options.oneTimePreKeys ?? 20;
    if (count > 0) await device.uploadKeys(count);
    return device;
  }

  /**
   * Acts as an account that already exists (e.g. one seeded by COPY, whose device
   * credential is derived from the population seed): a fresh Signal identity is
   * generated here and published with `oneTimePreKeys` one-time prekeys, replacing
   * whatever keys the server held for the device (a seeded device's shared keys
   * have no private halves anywhere).
   */
  static async resume(options: {
    url: string;
    accountId: string;
    deviceId?: number;
    credential: string;
    phoneNumber: string;
    oneTimePreKeys?: number;
  }): Promise<HandshakeDevice> {
    const deviceId = options.deviceId ?? 1;
    const signal = await SignalDevice.create({ address: { accountId: options.accountId, deviceId } });
    const device = new HandshakeDevice({ ...options, deviceId, signal });
    await device.uploadKeys(options.oneTimePreKeys ?? 20);
    return device;
  }

  /** Publishes a new signed prekey, last-resort Kyber key and `oneTimeCount` one-time prekeys. */
  async uploadKeys(oneTimeCount = 20, oneTimeKyberCount = 0) {
    const upload = await this.signal.generatePreKeys({ oneTimeCount, oneTimeKyberCount });
    return this.api.keys.upload.mutate(upload);
  }

  /**
   * Opens the WebSocket and starts receiving: every envelope is decrypted (or,
   * for receipts, parsed), handed to `messages()` / `receipts()`, then acked.
   */
  async connect(): Promise<void> {
    if (this.closeSocket) return;
    let resolveOpen!: () => void;
    const opened = new Promise<void>((resolve) => (resolveOpen = resolve));
    const { client, close } = createMessengerClient({
      url: this.url,
      credential: this.credential,
      webSocket: true,
      onOpen: () => resolveOpen(),
    });
    this.api = client;
    this.closeSocket = close;
    let resolveStarted!: () => void;
    const started = new Promise<void>((resolve) => (resolveStarted = resolve));
    const subscription = client.inbox.stream.subscribe(undefined, {
      onStarted: () => resolveStarted(),
      onData: (event) => {
        const envelope = event.data as DeliveredEnvelope;
        // One at a time, in order: Signal sessions are stateful.
        this.processing = this.processing.then(() => this.handle(envelope));
      },
      onError: (error) => this.failures.push({ envelopeId: "stream", error }),
    });
    this.unsubscribe = () => subscription.unsubscribe();
    await opened;
    await started;
  }

  private async handle(envelope: DeliveredEnvelope): Promise<void> {
    const from = { accountId: envelope.senderAccountId, deviceId: envelope.senderDeviceId };
    try {
      if (envelope.type === EnvelopeType.SERVER_DELIVERY_RECEIPT) {
        this.receiptChannel.push({ messageId: envelope.messageId, by: from, serverTimestamp: envelope.serverTimestamp });
      } else {
        const plaintext = await this.signal.decrypt(from, { type: envelope.type, content: envelope.content });
        this.incoming.push({
          envelopeId: envelope.id,
          messageId: envelope.messageId,
          from,
          type: envelope.type,
          text: decoder.decode(plaintext),
          serverTimestamp: envelope.serverTimestamp,
        });
      }
    } catch (error) {
      this.failures.push({ envelopeId: envelope.id, error: error as Error });
    }
    this.lastEnvelopeId = envelope.id;
    try {
      await this.api.inbox.ack.mutate({ ids: [envelope.id] });
    } catch (error) {
      // Not acknowledged: the server keeps it and redelivers on the next connection.
      this.failures.push({ envelopeId: envelope.id, error: error as Error });
    }
  }

  /** Decrypted messages, in arrival order. Each was acked after decryption. */
  messages(): AsyncIterable<ReceivedMessage> {
    return this.incoming;
  }

  /** Delivery receipts for messages this device sent. */
  receipts(): AsyncIterable<DeliveryReceipt> {
    return this.receiptChannel;
  }

  /** Waits for the next `n` messages. */
  async take(n: number): Promise<ReceivedMessage[]> {
    const out: ReceivedMessage[] = [];
    if (n <= 0) return out;
    for await (const message of this.incoming) {
      out.push(message);
      if (out.length >= n) break;
    }
    return out;
  }

  /** Encrypts `text` for the recipient's device (setting up a session first if needed) and sends it. */
  async send(
    to: string | { accountId: string; deviceId?: number },
    text: string,
    options: {
      messageId?: string;
      /** Business accounts: the cleartext category of the message. */
      category?: { kind: "transactional"; topic: "receipt" | "flight-status" | "delivery" | "fraud-alert" } | { kind: "marketing" };
    } = {},
  ): Promise<{ messageId: string; envelopeId: string; type: number; duplicate: boolean; ciphertext: string }> {
    const recipient = typeof to === "string" ? { accountId: to, deviceId: 1 } : { accountId: to.accountId, deviceId: to.deviceId ?? 1 };
    if (!(await this.signal.hasSession(recipient))) {
      const bundle = await this.api.keys.bundle.query(recipient);
      await this.signal.startSession(recipient, bundle);
    }
    const encrypted = await this.signal.encrypt(recipient, encoder.encode(text));
    const messageId = options.messageId ?? randomUUID();
    const result = await this.api.message.send.mutate({
      messageId,
      recipient,
      type: encrypted.type,
      content: encrypted.content,
      ...(options.category ? { category: options.category } : {}),
    });
    return {
      messageId,
      envelopeId: result.envelopeId,
      type: encrypted.type,
      duplicate: result.duplicate,
      ciphertext: encrypted.content,
    };
  }

  /** The terms in force and what this account must do (accept by the deadline). */
  terms() {
    return this.api.terms.current.query();
  }

  /** Accepts the terms in force; `shareWithFacebook` is the state of the share box. */
  acceptTerms(shareWithFacebook: boolean, version = "2016-08-25") {
    return this.api.terms.accept.mutate({ version, shareWithFacebook });
  }

  /** Settings > Account: stop sharing account info with Facebook (within 30 days of accepting). */
  optOutOfSharing() {
    return this.api.settings.setShareAccountInfo.mutate({ shareWithFacebook: false });
  }

  /** Business choices of this account. */
  blockBusiness(businessId: string) {
    return this.api.business.block.mutate({ businessId });
  }
  unblockBusiness(businessId: string) {
    return this.api.business.unblock.mutate({ businessId });
  }
  optOutOfMarketing(businessId: string) {
    return this.api.business.marketing.mutate({ businessId, receive: false });
  }

  /** Stops receiving and closes the socket. `connect()` again resumes from the server's queue. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.processing;
    await this.closeSocket?.();
    this.closeSocket = null;
    // Messages already decrypted stay readable from `messages()`: they were acked.
    this.api = createMessengerClient({ url: this.url, credential: this.credential }).client;
  }
}
