/**
 * A COMMIT whose reply never comes on a connection that stays open (a black-holed
 * network path: no RST, no FIN, so postgres.js waits until TCP keep-alive gives up,
 * minutes later) must not wedge the queue writer: every later send waited behind it
 * for good. Now the batch is abandoned at its deadline with SERVICE_UNAVAILABLE
 * semantics (QueueUnavailable), later batches go on, and the retry with the same id
 * finds the committed send (`duplicate`, same envelope id). Real PostgreSQL behind a
 * TCP proxy that swallows the reply.
 */
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { PostgresFaultProxy } from "@handshake/db/fault-proxy";
import { startTestMessenger, type TestMessenger } from "../testing";
import { registerAccount } from "../../test/helpers";
import { LocalInboxBus } from "../relay/bus";
import { QueueUnavailable, QueueWriter, type SendItem } from "./queue";

let proxy: PostgresFaultProxy;
let messenger: TestMessenger;
beforeAll(async () => {
  proxy = await PostgresFaultProxy.start(inject("postgresAdminUrl"));
  messenger = await startTestMessenger({ rateLimits: false });
});
afterAll(async () => {
  await messenger?.close();
  await proxy?.close();
});

describe("a queue batch whose COMMIT reply is black-holed", () => {
  it("is abandoned at its deadline; later sends are stored, and the retry answers duplicate with the same envelope", async () => {
    const alice = await registerAccount(messenger.url);
    const bob = await registerAccount(messenger.url);
    // The writer under test reaches the same database through the proxy.
    const sql = postgres(proxy.url(messenger.databaseUrl), { max: 4, onnotice: () => {} });
    const writer = new QueueWriter(sql, new LocalInboxBus(), messenger.server.services.clock, pino({ level: "silent" }), { deadlineMs: 1_500 });
    const item = (messageId: string): SendItem => ({
      sender: { accountId: alice.accountId, deviceId: 1 },
      recipient: { accountId: bob.accountId, deviceId: 1 },
      messageId,
      type: 1,
      content: Buffer.from(`opaque ${messageId}`),
      category: null,
    });
    try {
      await writer.send(item(randomUUID())); // the pool's connection is open and warm

      const lost = randomUUID();
      const swallowed = proxy.blackHoleNextCommitReply();
      const started = Date.now();
      const outcome = await writer.send(item(lost)).then(
        () => null,
        (error: unknown) => error,
      );
      await swallowed;
      expect(outcome).toBeInstanceOf(QueueUnavailable);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
      expect(writer.stats.abandoned).toBe(1);

      // The writer is not wedged: a later send commits on another connection.
      const later = await writer.send(item(randomUUID()));
      expect(later.status).toBe("stored");

      // The abandoned send did commit (only its reply was lost): the retry finds it.
      const [row] = await messenger.server.services.sql<{ id: string }[]>`select id from envelopes where message_id = ${lost}`;
      expect(row, "the COMMIT went through although its reply never came").toBeDefined();
      const retried = await writer.send(item(lost));
      expect(retried).toMatchObject({ status: "duplicate", envelopeId: row!.id });
    } finally {
      await writer.close();
      await sql.end({ timeout: 1 });
    }
  });
});
