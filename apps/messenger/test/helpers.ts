/** Shared by the messenger's tests: raw tRPC clients and real Signal key material. */
import { randomUUID } from "node:crypto";
import { createTRPCClient, createWSClient, httpLink, wsLink, type TRPCClient } from "@trpc/client";
import WebSocket from "ws";
import { SignalDevice } from "@handshake/crypto";
import type { DeliveredEnvelope } from "@handshake/crypto/wire";
import { DISPLACED_CLOSE_CODE } from "../src/relay/presence";
import type { AppRouter } from "../src/root";

export type Api = TRPCClient<AppRouter>;

export function httpApi(url: string, credential?: string, adminToken?: string): Api {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url,
        headers: () => ({
          ...(credential ? { authorization: `Bearer ${credential}` } : {}),
          ...(adminToken ? { "x-admin-token": adminToken } : {}),
        }),
      }),
    ],
  });
}

export function wsApi(
  url: string,
  credential?: string,
  hooks: { onOpen?: () => void; onClose?: (cause?: { code?: number }) => void } = {},
) {
  const client = createWSClient({
    url: url.replace(/^http/, "ws"),
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: () => (credential ? { token: credential } : {}),
    retryDelayMs: () => 20,
    ...hooks,
  });
  return { api: createTRPCClient<AppRouter>({ links: [wsLink({ client })] }), close: () => client.close() };
}

let counter = 0;
/** A fresh valid German mobile number per call (distinct across test files by prefix). */
export function phone(prefix = "0"): string {
  counter += 1;
  return `+49151${prefix}${String(counter).padStart(8 - prefix.length, "0")}`;
}

export const androidDevice = { os: "android", osVersion: "6.0.1", appVersion: "2.16.260", model: "SM-G920F" } as const;

export interface TestAccount {
  accountId: string;
  deviceId: number;
  credential: string;
  api: Api;
  signal: SignalDevice;
}

export interface RegistrationRequest {
  phoneNumber: string;
  defaultCountry?: string;
  kind?: "personal" | "business";
  displayName?: string;
  device?: { os: "android" | "ios" | "other"; osVersion: string; appVersion: string; model: string };
}

/**
 * The whole registration over HTTP: request a code, read it from the simulated
 * phone network (as the phone would), present it.
 */
export async function verifyAndRegister(url: string, request: RegistrationRequest) {
  const api = httpApi(url);
  const { sessionId } = await api.account.requestCode.mutate({
    phoneNumber: request.phoneNumber,
    ...(request.defaultCountry ? { defaultCountry: request.defaultCountry } : {}),
  });
  const { code } = await api.phoneSimulator.readCode.query({ sessionId });
  return api.account.register.mutate({
    sessionId,
    code,
    device: request.device ?? androidDevice,
    ...(request.kind ? { kind: request.kind } : {}),
    ...(request.displayName ? { displayName: request.displayName } : {}),
  });
}

export async function registerAccount(
  url: string,
  options: { keys?: number; phoneNumber?: string; business?: string } = {},
): Promise<TestAccount> {
  const registered = await verifyAndRegister(url, {
    phoneNumber: options.phoneNumber ?? phone(),
    ...(options.business ? { kind: "business" as const, displayName: options.business } : {}),
  });
  const api = httpApi(url, registered.credential);
  const signal = await SignalDevice.create({ address: { accountId: registered.accountId, deviceId: 1 } });
  if (options.keys !== undefined) await api.keys.upload.mutate(await signal.generatePreKeys({ oneTimeCount: options.keys }));
  return { ...registered, api, signal };
}

/** Sends one small envelope with a caller-chosen id (content is opaque to the server). */
export function sendWithId(from: TestAccount, to: TestAccount, messageId: string) {
  return from.api.message.send.mutate({
    messageId,
    recipient: { accountId: to.accountId },
    type: 1,
    content: Buffer.from(`opaque ${messageId}`).toString("base64"),
  });
}

/** Sends `count` small envelopes from `from` to `to` (content is opaque to the server). */
export async function sendOpaque(from: TestAccount, to: TestAccount, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const messageId = randomUUID();
    await from.api.message.send.mutate({
      messageId,
      recipient: { accountId: to.accountId },
      type: 1,
      content: Buffer.from(`opaque ${i}`).toString("base64"),
    });
    ids.push(messageId);
  }
  return ids;
}

/**
 * Subscribes `account`'s inbox on `url` over a real WebSocket and collects what
 * arrives, the stream's errors and the socket's close code; a displaced socket (4409)
 * is not reopened, as the SDK does.
 */
export function openInbox(url: string, account: TestAccount, lastEventId?: string) {
  const received: DeliveredEnvelope[] = [];
  const errors: { code?: string; message: string }[] = [];
  let closedWith: number | undefined;
  let notify: (() => void) | null = null;
  const ws = wsApi(url, account.credential, {
    onClose: (cause) => {
      closedWith ??= cause?.code;
      // As the SDK does: reconnecting would displace the newer stream in turn.
      if (cause?.code === DISPLACED_CLOSE_CODE) ws.close();
      notify?.();
    },
  });
  let started!: () => void;
  const ready = new Promise<void>((resolve) => (started = resolve));
  const sub = ws.api.inbox.stream.subscribe(lastEventId ? { lastEventId } : undefined, {
    onStarted: () => started(),
    onData: (event) => {
      received.push(event.data as DeliveredEnvelope);
      notify?.();
    },
    onError: (error) => {
      errors.push({ code: (error as { data?: { code?: string } }).data?.code, message: error.message });
      notify?.();
    },
  });
  const until = (check: () => boolean, what: string, timeoutMs = 15_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}: got ${received.length}`)), timeoutMs);
      const test = () => {
        if (check()) {
          clearTimeout(timer);
          notify = null;
          resolve();
        } else notify = test;
      };
      test();
    });
  return {
    received,
    errors,
    ready,
    count: (n: number, timeoutMs?: number) => until(() => received.length >= n, `${n} envelopes`, timeoutMs),
    failed: () => until(() => errors.length > 0, "an error"),
    closed: async () => {
      await until(() => closedWith !== undefined, "the socket to close");
      return closedWith;
    },
    close: () => {
      sub.unsubscribe();
      ws.close();
    },
  };
}
