/**
 * The missed-delivery sweep on one node (the in-process bus): an envelope that is
 * durable but was never announced — a commit whose wake-up ran before the commit
 * was visible, or another writer's commit — still reaches the connected device,
 * with no later envelope to reveal the gap. Real PostgreSQL, a real WebSocket.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMessengerDb } from "@handshake/db/client";
import { openInbox, registerAccount } from "../../test/helpers";
import { systemClock } from "../clock";
import { createLogger } from "../log";
import { startTestMessenger, type TestMessenger } from "../testing";
import { QueueWriter } from "../storage/queue";
import { LocalInboxBus } from "./bus";

let messenger: TestMessenger;
beforeAll(async () => {
  messenger = await startTestMessenger({ rateLimits: false, missedDeliverySweepMs: 200 });
});
afterAll(async () => {
  await messenger?.close();
});

describe("an envelope stored without a notice, on a single node", () => {
  it("reaches the open stream through the sweep", async () => {
    const alice = await registerAccount(messenger.url);
    const bob = await registerAccount(messenger.url);
    const inbox = openInbox(messenger.url, bob);
    await inbox.ready;

    // A writer whose bus nobody listens to: the commit is durable, the server's streams hear nothing.
    const { sql, close } = createMessengerDb(messenger.databaseUrl, { max: 1 });
    const silent = new QueueWriter(sql, new LocalInboxBus(), systemClock, createLogger({ level: "silent" }));
    try {
      const messageId = randomUUID();
      const outcome = await silent.send({
        sender: { accountId: alice.accountId, deviceId: 1 },
        recipient: { accountId: bob.accountId, deviceId: 1 },
        messageId,
        type: 1,
        content: Buffer.from("stored behind the relay's back"),
        category: null,
      });
      expect(outcome.status).toBe("stored");

      await inbox.count(1, 10_000);
      expect(inbox.received.map((e) => e.messageId)).toEqual([messageId]);
      expect(messenger.server.sweep?.stats.woken).toBeGreaterThan(0);
    } finally {
      inbox.close();
      await silent.close();
      await close();
    }
  });
});
