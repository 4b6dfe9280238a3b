/**
 * A session that holds the queue writer's lock and never lets go (an operator's
 * open transaction, a client stuck mid-transaction) must not stop the relay for
 * good: PostgreSQL's lock_timeout fails the waiting batch with a clear error, the
 * sender retries with the same id, and once the lock is free the message is stored
 * once and delivered once. Real PostgreSQL, real WebSockets.
 */
import { randomUUID } from "node:crypto";
import { TRPCClientError } from "@trpc/client";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openInbox, registerAccount, sendWithId } from "../../test/helpers";
import { startTestMessenger, type TestMessenger } from "../testing";

let messenger: TestMessenger;
beforeAll(async () => {
  messenger = await startTestMessenger({ rateLimits: false, databaseSessionLimits: { lockTimeoutMs: 500 } });
});
afterAll(async () => {
  await messenger?.close();
});

const send = sendWithId;

describe("a stuck session holding the queue writer's lock", () => {
  it("fails sends with SERVICE_UNAVAILABLE instead of hanging, and the retry after it lets go is stored and delivered once", async () => {
    const alice = await registerAccount(messenger.url);
    const bob = await registerAccount(messenger.url);
    const inbox = openInbox(messenger.url, bob);
    await inbox.ready;

    const holder = postgres(messenger.databaseUrl, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holding = holder.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext('handshake-envelope-writer'))`;
      locked();
      await released;
    });
    try {
      await isLocked;
      const messageId = randomUUID();
      const refused = await send(alice, bob, messageId).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(TRPCClientError);
      const trpcError = refused as TRPCClientError<never>;
      expect((trpcError.data as { code?: string } | undefined)?.code).toBe("SERVICE_UNAVAILABLE");
      expect(trpcError.message).toMatch(/message queue is unavailable.*lock timeout/);

      // The relay is not wedged: other calls still answer while the lock is held.
      await expect(bob.api.keys.count.query()).resolves.toBeDefined();

      release();
      await holding;
      const retried = await send(alice, bob, messageId);
      expect(retried.duplicate).toBe(false);
      await inbox.count(1, 10_000);
      expect(inbox.received.map((e) => e.messageId)).toEqual([messageId]);
    } finally {
      release();
      await holding.catch(() => {});
      inbox.close();
      await holder.end({ timeout: 1 });
    }
  });
});
