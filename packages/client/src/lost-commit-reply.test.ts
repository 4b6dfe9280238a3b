/**
 * Issue 10, defect 3, end to end with real Signal sessions: the messenger's COMMIT
 * reply is lost (a TCP proxy between it and PostgreSQL cuts the connection right
 * after PostgreSQL committed). The SDK resends the same ciphertext under the same
 * message id, the server answers `duplicate`, and the connected recipient decrypts
 * every message exactly once and in order, also across a dropped connection.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startTestMessenger, type TestMessenger } from "@handshake/messenger/testing";
import { PostgresFaultProxy } from "@handshake/db/fault-proxy";
import { HandshakeDevice } from "./index";

let proxy: PostgresFaultProxy;
let messenger: TestMessenger;
let phoneCounter = 0;
const nextPhone = () => `+4915124${String(100000 + phoneCounter++).padStart(6, "0")}`;

beforeAll(async () => {
  proxy = await PostgresFaultProxy.start(inject("postgresAdminUrl"));
  messenger = await startTestMessenger({ rateLimits: false, connectUrl: (url) => proxy.url(url) });
});
afterAll(async () => {
  await messenger?.close();
  await proxy?.close();
});

describe("a message whose COMMIT reply was lost", () => {
  it("is sent once, decrypted once and in order by the connected recipient, and a resume skips nothing", async () => {
    const alice = await HandshakeDevice.register({ url: messenger.url, phoneNumber: nextPhone() });
    const bob = await HandshakeDevice.register({ url: messenger.url, phoneNumber: nextPhone() });
    await bob.connect();

    await alice.send(bob.accountId, "one");
    expect((await bob.take(1)).map((m) => m.text)).toEqual(["one"]);
    await bob.settled(); // its ack has committed: the next COMMIT is Alice's send

    const dropped = proxy.dropNextCommitReply();
    const two = await alice.send(bob.accountId, "two"); // the SDK resends after the lost reply
    await dropped;
    expect(proxy.droppedCommitReplies).toBe(1);
    expect(two.duplicate).toBe(true);
    await alice.send(bob.accountId, "three");
    expect((await bob.take(2)).map((m) => m.text)).toEqual(["two", "three"]);

    for (const socket of messenger.server.wss.clients) socket.terminate();
    await alice.send(bob.accountId, "four");
    await alice.send(bob.accountId, "five");
    expect((await bob.take(2)).map((m) => m.text)).toEqual(["four", "five"]);
    await bob.close(); // waits for the last acknowledgements
    expect(bob.failures).toEqual([]);
    const [left] = await messenger.server.services.sql<{ n: number }[]>`
      select count(*)::int as n from envelopes where recipient_account_id = ${bob.accountId}`;
    expect(left!.n).toBe(0); // each acknowledged once: nothing left over, nothing delivered twice
  });
});
