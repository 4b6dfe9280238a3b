/**
 * `connect()` must answer when the server refuses the inbox stream: a holdout
 * past the terms deadline is locked out, and the SDK used to wait for a
 * "started" that never came. Real messenger, PostgreSQL and WebSocket.
 */
import { createTRPCClient, httpLink } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppRouter } from "@handshake/messenger";
import { startTestMessenger, TEST_ADMIN_TOKEN, type TestMessenger } from "@handshake/messenger/testing";
import { HandshakeDevice } from "./index";

let messenger: TestMessenger;
beforeAll(async () => {
  messenger = await startTestMessenger({ simStart: new Date("2016-08-20T08:00:00Z"), rateLimits: false });
});
afterAll(async () => {
  await messenger?.close();
});

const admin = () =>
  createTRPCClient<AppRouter>({ links: [httpLink({ url: messenger.url, headers: { "x-admin-token": TEST_ADMIN_TOKEN } })] });

describe("connect() on a refused inbox stream", () => {
  it("rejects with FORBIDDEN past the deadline, and connects once the terms are accepted", async () => {
    const holdout = await HandshakeDevice.register({ url: messenger.url, phoneNumber: "+4915123900000" });
    const friend = await HandshakeDevice.register({ url: messenger.url, phoneNumber: "+4915123900001" });
    await admin().admin.setClock.mutate({ at: "2016-08-26T12:00:00.000Z" });
    const deadline = new Date((await holdout.terms()).acceptanceDeadline!);
    await admin().admin.setClock.mutate({ at: new Date(deadline.getTime() + 60_000).toISOString() });

    const refused = await holdout.connect().then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ data: { code: "FORBIDDEN" } });

    // Nothing was lost meanwhile: a message sent to the locked-out account waits in its queue.
    await friend.acceptTerms(false);
    await holdout.acceptTerms(true);
    await friend.send(holdout.accountId, "kept for you");
    await holdout.connect();
    const [received] = await holdout.take(1);
    expect(received?.text).toBe("kept for you");
    await Promise.all([holdout.close(), friend.close()]);
  });
});
