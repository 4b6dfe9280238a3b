/** One simulated phone: account, keys, connection, encrypted conversation. */
import { randomUUID } from "node:crypto";
import { EnvelopeType, SignalDevice, type DeliveredEnvelope } from "@handshake/crypto";
import { verifyAndRegister } from "./registration";
import { TRPCClientError } from "@trpc/client";
import { createMessengerClient, type MessengerClient } from "./trpc-client";

/** Close code the messenger uses when a newer connection of this device took over its inbox stream. */
export const DISPLACED_CLOSE_CODE = 4409;

/** Delays before repeating a call whose outcome is unknown (a send with the same id and ciphertext, an ack). */
const RETRY_DELAYS_MS = [100, 300, 900, 2_000];

/**
 * True when a failed call may have taken effect anyway, so repeating it (it is
 * idempotent) is the way to learn the outcome: the server failed (e.g. its
 * database COMMIT went through but the reply was lost) or the transport did.
 * Refusals (bad input, consent, limits) are final and not repeated.
 */
function outcomeUnknown(error: unknown): boolean {
  if (!(error instanceof TRPCClientError)) return false;
  const code = (error.data as { code?: string } | undefined)?.code;
  // SERVICE_UNAVAILABLE: the server's queue could not commit (its database away or stuck).
  return code === undefined || code === "INTERNAL_SERVER_ERROR" || code === "SERVICE_UNAVAILABLE";
}

/**
 * The longest one attempt may wait for its answer. A call whose answer never comes
 * (a server stuck behind its database) is abandoned and repeated, so one hung ack
 * cannot stall every envelope behind it.
 */
const ATTEMPT_TIMEOUT_MS = 15_000;

/** Runs an idempotent call, repeating it while its outcome is unknown. */
async function idempotently<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(AbortSignal.timeout(ATTEMPT_TIMEOUT_MS));
    } catch (error) {
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined || !outcomeUnknown(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

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
  /** How the code is delivered (default sms). */
  transport?: "sms" | "voice";
  /**
   * Reads the verification code the phone received for a session. Default: the
   * messenger's simulated phone network (`phoneSimulator.readCode`, dev/test only).
   */
  readCode?: (sessionId: string) => Promise<string>;
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
  /** Why the inbox stream ended, if it did (e.g. the terms deadline passed); reconnect with `close()` + `connect()`. */
  streamError: Error | null = null;
  /** A newer connection of this device took over the inbox; this one stopped and will not reconnect by itself. */
  displaced = false;

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

  /**
   * Registers the phone number (request a code, read it as the phone would,
   * present it) and (by default) publishes 20 one-time prekeys. A number that is
   * already registered is taken over by this device, as on WhatsApp.
   */
  static async register(options: RegisterOptions): Promise<HandshakeDevice> {
    const anonymous = createMessengerClient({ url: options.url }).client;
    const registered = await verifyAndRegister(anonymous, {
      phoneNumber: options.phoneNumber,
      kind: options.kind ?? "personal",
      ...(options.displayName ? { displayName: options.displayName } : {}),
      ...(options.transport ? { transport: options.transport } : {}),
      device: { ...defaultDevice, ...options.device },
      ...(options.readCode ? { readCode: options.readCode } : {}),
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
   * Rejects with the server's error if it refuses the inbox stream (e.g. FORBIDDEN
   * once the terms deadline passed unaccepted); the socket is closed again then.
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
      // Reconnecting would displace the newer connection in turn: two copies of one device would take turns for ever.
      onClose: (cause) => {
        if (cause?.code !== DISPLACED_CLOSE_CODE) return;
        this.displaced = true;
        void close();
      },
    });
    this.api = client;
    this.closeSocket = close;
    let resolveStarted!: () => void;
    let refuseStart!: (error: unknown) => void;
    const started = new Promise<void>((resolve, reject) => {
      resolveStarted = resolve;
      refuseStart = reject;
    });
    // tRPC resubscribes by itself after a dropped socket; after an error the server
    // could not help (its database was restarting) we subscribe again, after the last
    // envelope received, so nothing is delivered twice or skipped.
    let lastEventId: string | null = null;
    let attempt = 0;
    let retry: NodeJS.Timeout | null = null;
    let current: { unsubscribe(): void } | null = null;
    const subscribe = () => {
      current = client.inbox.stream.subscribe(lastEventId ? { lastEventId } : undefined, {
        onStarted: () => {
          attempt = 0;
          resolveStarted();
        },
        onData: (event) => {
          const envelope = event.data as DeliveredEnvelope;
          lastEventId = envelope.id;
          // One at a time, in order: Signal sessions are stateful.
          this.processing = this.processing.then(() => this.handle(envelope));
        },
        onError: (error) => {
          const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!;
          if (outcomeUnknown(error) && !this.displaced && this.closeSocket === close && attempt < 20) {
            attempt += 1;
            retry = setTimeout(subscribe, delay);
            return;
          }
          this.streamError = error;
          this.failures.push({ envelopeId: "stream", error });
          // Refused before it started (e.g. the terms deadline passed): `connect()` says so
          // rather than waiting for ever. After it started this is a no-op.
          refuseStart(error);
        },
      });
    };
    subscribe();
    this.unsubscribe = () => {
      if (retry) clearTimeout(retry);
      current?.unsubscribe();
    };
    try {
      await Promise.all([opened, started]);
    } catch (error) {
      // Leave the device as before `connect()`, so it can be connected again later.
      await this.close();
      throw error;
    }
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
      // Repeated when the socket drops under it: a resumed stream does not redeliver
      // what it already delivered, so an ack lost here would leave it queued until the
      // next fresh connection.
      await idempotently((signal) => this.api.inbox.ack.mutate({ ids: [envelope.id] }, { signal }));
    } catch (error) {
      // Not acknowledged: the server keeps it and redelivers on the next connection.
      this.failures.push({ envelopeId: envelope.id, error: error as Error });
    }
  }

  /** Resolves once every envelope received so far has been processed and its acknowledgement answered. */
  async settled(): Promise<void> {
    await this.processing;
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
      category?: { kind: "transactional"; topic: "receipt" | "order" | "delivery" | "reservation" | "appointment" | "flight-status" | "bank-alert" | "fraud-alert" } | { kind: "marketing" };
    } = {},
  ): Promise<{ messageId: string; envelopeId: string; type: number; duplicate: boolean; ciphertext: string }> {
    const recipient = typeof to === "string" ? { accountId: to, deviceId: 1 } : { accountId: to.accountId, deviceId: to.deviceId ?? 1 };
    if (!(await this.signal.hasSession(recipient))) {
      const bundle = await this.api.keys.bundle.query(recipient);
      await this.signal.startSession(recipient, bundle);
    }
    const encrypted = await this.signal.encrypt(recipient, encoder.encode(text));
    const messageId = options.messageId ?? randomUUID();
    const input = {
      messageId,
      recipient,
      type: encrypted.type,
      content: encrypted.content,
      ...(options.category ? { category: options.category } : {}),
    };
    // Resent as it was (not re-encrypted): the server keeps the first copy it stored,
    // and answers `duplicate` when an earlier attempt went through after all.
    const result = await idempotently((signal) => this.api.message.send.mutate(input, { signal }));
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
