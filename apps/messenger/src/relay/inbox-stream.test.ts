import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveredEnvelope } from "@handshake/crypto/wire";
import { streamInbox } from "./inbox-stream";
import { startTestMessenger, type TestMessenger } from "../testing";
import { registerAccount, sendOpaque, wsApi } from "../../test/helpers";

let messenger: TestMessenger;
beforeAll(async () => {
  messenger = await startTestMessenger({ rateLimits: false });
});
afterAll(async () => {
  await messenger?.close();
});

describe("inbox.stream", () => {
  it("resumes after lastEventId when the connection drops: nothing lost, nothing twice (without acks)", async () => {
    const alice = await registerAccount(messenger.url);
    const bob = await registerAccount(messenger.url);
    let opens = 0;
    const bobWs = wsApi(messenger.url, bob.credential, { onOpen: () => (opens += 1) });
    const received: DeliveredEnvelope[] = [];
    let notify: (() => void) | null = null;
    const sub = bobWs.api.inbox.stream.subscribe(undefined, {
      onData: (event) => {
        received.push(event.data as DeliveredEnvelope);
        notify?.();
      },
    });
    const until = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (received.length >= n ? resolve() : (notify = check));
        check();
      });

    const sentFirst = await sendOpaque(alice, bob, 10);
    await until(10);
    // Drop every socket from the server side; the client reconnects and resubscribes
    // with the last tracked id. Nothing was acked, so a resume from the start would
    // deliver the first ten again.
    for (const socket of messenger.server.wss.clients) socket.terminate();
    const sentSecond = await sendOpaque(alice, bob, 10);
    await until(20);
    // Give a duplicate a chance to show up before judging.
    await sendOpaque(alice, bob, 1);
    await until(21);

    expect(opens).toBeGreaterThanOrEqual(2);
    expect(received.map((e) => e.messageId)).toEqual([...sentFirst, ...sentSecond, received[20]!.messageId]);
    const ids = received.map((e) => BigInt(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    sub.unsubscribe();
    bobWs.close();
  });

  it("a fresh connection (no lastEventId) redelivers everything not yet acknowledged", async () => {
    const alice = await registerAccount(messenger.url);
    const bob = await registerAccount(messenger.url);
    await sendOpaque(alice, bob, 3);
    const collect = async () => {
      const ws = wsApi(messenger.url, bob.credential);
      const got: DeliveredEnvelope[] = [];
      await new Promise<void>((resolve) => {
        const sub = ws.api.inbox.stream.subscribe(undefined, {
          onData: (event) => {
            got.push(event.data as DeliveredEnvelope);
            if (got.length === 3) {
              sub.unsubscribe();
              resolve();
            }
          },
        });
      });
      ws.close();
      return got;
    };
    const first = await collect();
    const second = await collect();
    expect(second.map((e) => e.id)).toEqual(first.map((e) => e.id));
    await bob.api.inbox.ack.mutate({ ids: first.map((e) => e.id) });
    const sql = messenger.server.services.sql;
    const bobQueue = await sql`select 1 from envelopes where recipient_account_id = ${bob.accountId}`;
    expect(bobQueue.length).toBe(0);
    const aliceQueue = await sql<{ type: number }[]>`
      select type from envelopes where recipient_account_id = ${alice.accountId}`;
    expect(aliceQueue.map((r) => r.type)).toEqual([5, 5, 5]); // a delivery receipt per message
  });

  it("a consumer that falls behind the live buffer still gets every envelope once, in order", async () => {
    const alice = await registerAccount(messenger.url);
    const bob = await registerAccount(messenger.url);
    const { bus, sql, writer } = messenger.server.services;
    const abort = new AbortController();
    // Drive the generator by hand with a tiny live buffer, and do not pull while
    // envelopes arrive: the buffer overflows and the stream must fall back to the queue.
    const stream = streamInbox({
      bus,
      sql,
      device: { accountId: bob.accountId, deviceId: 1 },
      afterId: null,
      signal: abort.signal,
      connection: null,
      maxBuffered: 5,
      pageSize: 7,
    });
    const [first] = await sendOpaque(alice, bob, 1);
    const firstEvent = await stream.next();
    // tracked() yields [id, data, marker].
    expect((firstEvent.value as unknown as [string, DeliveredEnvelope])[1].messageId).toBe(first);

    const sent = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        writer.send({
          sender: { accountId: alice.accountId, deviceId: 1 },
          recipient: { accountId: bob.accountId, deviceId: 1 },
          messageId: crypto.randomUUID(),
          type: 1,
          content: Buffer.from(`late ${i}`),
          category: null,
        }),
      ),
    );
    expect(sent.every((s) => s.status === "stored")).toBe(true);
    const got: string[] = [];
    while (got.length < 40) {
      const next = await stream.next();
      got.push((next.value as unknown as [string, DeliveredEnvelope])[0]);
    }
    const expected = sent.map((s) => (s.status === "stored" ? s.envelopeId : "")).sort((a, b) => Number(a) - Number(b));
    expect(got).toEqual(expected);
    abort.abort();
    await stream.return(undefined);
  });
});
