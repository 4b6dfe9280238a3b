/**
 * Both services for real, wired as in production: the messenger ships share
 * events to the Facebook side, which sends spam signals back. Each on its own
 * database; Facebook follows the messenger's simulation clock.
 */
import { createTRPCClient, httpLink, type TRPCClient } from "@trpc/client";
import type { RegimeInput } from "@handshake/consent";
import { freePort } from "@handshake/db/embedded";
import type { AppRouter as FacebookRouter } from "@handshake/facebook";
import { startTestFacebook, TEST_FACEBOOK_ADMIN_TOKEN, type TestFacebook } from "@handshake/facebook/testing";
import type { AppRouter as MessengerRouter } from "@handshake/messenger";
import { startTestMessenger, TEST_ADMIN_TOKEN, TEST_SERVICE_TOKEN, type TestMessenger } from "@handshake/messenger/testing";

export type MessengerApi = TRPCClient<MessengerRouter>;
export type FacebookApi = TRPCClient<FacebookRouter>;

export function messengerApi(url: string, headers: Record<string, string> = {}): MessengerApi {
  return createTRPCClient<MessengerRouter>({ links: [httpLink({ url, headers })] });
}

export function facebookAdmin(url: string): FacebookApi {
  return createTRPCClient<FacebookRouter>({ links: [httpLink({ url, headers: { "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN } })] });
}

export interface Pipeline {
  messenger: TestMessenger;
  /** Null while "down" (see startFacebook). */
  facebook: TestFacebook | null;
  facebookPort: number;
  admin: MessengerApi;
  startFacebook(options?: { spamThrottlePerDay?: number; spamSuspendPerDay?: number }): Promise<TestFacebook>;
  stopFacebook(): Promise<void>;
  /** Registers an account and returns its API client (country from the number). */
  register(phoneNumber: string): Promise<{ accountId: string; api: MessengerApi }>;
  close(): Promise<void>;
}

export async function startPipeline(options: {
  regime?: RegimeInput;
  facebookUp?: boolean;
  spamThrottlePerDay?: number;
  spamSuspendPerDay?: number;
  /** Shipper tuning over the test defaults. */
  shipper?: NonNullable<Parameters<typeof startTestMessenger>[0]>["shipper"];
  /** The shipper sends to this port (e.g. a fault-injecting proxy) instead of Facebook's. */
  shipVia?: number;
}): Promise<Pipeline> {
  const facebookPort = await freePort();
  const messenger = await startTestMessenger({
    simStart: new Date("2016-08-20T08:00:00Z"),
    rateLimits: false,
    facebookUrl: `http://127.0.0.1:${options.shipVia ?? facebookPort}/trpc`,
    ...(options.regime ? { regime: options.regime } : {}),
    ...(options.shipper ? { shipper: options.shipper } : {}),
  });
  let facebookDatabaseUrl: string | undefined;
  const pipeline: Pipeline = {
    messenger,
    facebook: null,
    facebookPort,
    admin: messengerApi(messenger.url, { "x-admin-token": TEST_ADMIN_TOKEN }),
    async startFacebook(spam = {}) {
      const facebook = await startTestFacebook({
        port: facebookPort,
        serviceToken: TEST_SERVICE_TOKEN,
        messengerUrl: messenger.url,
        clock: messenger.server.services.clock,
        spamThrottlePerDay: spam.spamThrottlePerDay ?? options.spamThrottlePerDay ?? 1_000,
        spamSuspendPerDay: spam.spamSuspendPerDay ?? options.spamSuspendPerDay ?? 10_000,
        ...(facebookDatabaseUrl ? { databaseUrl: facebookDatabaseUrl } : {}),
      });
      facebookDatabaseUrl ??= facebook.databaseUrl;
      pipeline.facebook = facebook;
      return facebook;
    },
    async stopFacebook() {
      // Stop the process but keep its database: a restart finds its data.
      await pipeline.facebook?.server.close();
      pipeline.facebook = null;
    },
    async register(phoneNumber) {
      // Possession first: a code to the phone, read from the simulated phone network.
      const anonymous = messengerApi(messenger.url);
      const { sessionId } = await anonymous.account.requestCode.mutate({ phoneNumber });
      const { code } = await anonymous.phoneSimulator.readCode.query({ sessionId });
      const registered = await anonymous.account.register.mutate({
        sessionId,
        code,
        device: { os: "android", osVersion: "6.0.1", appVersion: "2.16.260", model: "SM-G920F" },
      });
      return { accountId: registered.accountId, api: messengerApi(messenger.url, { authorization: `Bearer ${registered.credential}` }) };
    },
    async close() {
      await messenger.close();
      const facebook = pipeline.facebook;
      if (facebook) await facebook.close();
    },
  };
  if (options.facebookUp !== false) await pipeline.startFacebook();
  return pipeline;
}
