/**
 * `/metrics` of a real messenger (real PostgreSQL, real WebSocket clients): the
 * counters move by exactly what happened, the gauges follow connections and the
 * queue, and nothing counts twice (a duplicate send stores nothing).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveredEnvelope } from "@handshake/crypto/wire";
import { scrapeMetrics, sumOf, type Sample } from "@handshake/observability/scrape";
import { startTestMessenger, type TestMessenger } from "../testing";
import { OUTBOX_EXACT_UP_TO } from "./metrics";
import { registerAccount, wsApi, type TestAccount } from "../../test/helpers";

let messenger: TestMessenger;
let alice: TestAccount;
let bob: TestAccount;
let origin: string;
beforeAll(async () => {
  messenger = await startTestMessenger({ rateLimits: false });
  origin = messenger.url.replace(/\/trpc$/, "");
  alice = await registerAccount(messenger.url);
  bob = await registerAccount(messenger.url);
}, 60_000);
afterAll(async () => {
  await messenger?.close();
});

const scrape = () => scrapeMetrics(origin);
const figure = (samples: Sample[], name: string) => sumOf(samples, name);

/** Scrapes until `check` holds (gauges sampled from PostgreSQL's statistics trail by about a second). */
async function until(check: (samples: Sample[]) => boolean, what: string, timeoutMs = 10_000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await scrape();
    if (check(samples)) return samples;
    if (Date.now() > deadline) throw new Error(`metrics never showed ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("messenger /metrics", () => {
  it("counts a send through a WebSocket client, its delivery and its ack, once each", async () => {
    const before = await scrape();
    expect(figure(before, "process_cpu_user_seconds_total")).toBeGreaterThan(0); // default process metrics
    const depthBefore = figure(before, "messenger_queue_depth");

    const aliceWs = wsApi(messenger.url, alice.credential);
    const bobWs = wsApi(messenger.url, bob.credential);
    const received: DeliveredEnvelope[] = [];
    const sub = bobWs.api.inbox.stream.subscribe(undefined, { onData: (event) => void received.push(event.data as DeliveredEnvelope) });
    await until((s) => figure(s, "messenger_inbox_stream_devices") === 1, "bob's stream");

    const messageIds = [randomUUID(), randomUUID(), randomUUID()];
    for (const messageId of messageIds) {
      const outcome = await aliceWs.api.message.send.mutate({
        messageId,
        recipient: { accountId: bob.accountId },
        type: 1,
        content: Buffer.from("opaque").toString("base64"),
      });
      expect(outcome.duplicate).toBe(false);
    }
    // The same message again is a duplicate: nothing stored.
    const again = await aliceWs.api.message.send.mutate({
      messageId: messageIds[0]!,
      recipient: { accountId: bob.accountId },
      type: 1,
      content: Buffer.from("opaque").toString("base64"),
    });
    expect(again.duplicate).toBe(true);
    for (let i = 0; i < 100 && received.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received.map((e) => e.messageId)).toEqual(messageIds);

    const sent = await until((s) => figure(s, "messenger_queue_depth") === depthBefore + 3, "three queued envelopes");
    const delta = (after: Sample[], name: string) => figure(after, name) - figure(before, name);
    expect(delta(sent, "messenger_messages_stored_total")).toBe(3);
    expect(delta(sent, "messenger_messages_delivered_total")).toBe(0);
    expect(figure(sent, "messenger_websocket_connections")).toBe(figure(before, "messenger_websocket_connections") + 2);
    // Three stored envelopes and one wake-up for the duplicate.
    expect(delta(sent, "messenger_bus_publishes_total")).toBe(4);
    expect(delta(sent, "messenger_bus_publish_failures_total")).toBe(0);

    await bobWs.api.inbox.ack.mutate({ ids: received.map((e) => e.id) });
    // Acked: three messages gone, three receipts for alice queued in their place.
    const acked = await scrape();
    expect(delta(acked, "messenger_messages_delivered_total")).toBe(3);
    expect(delta(acked, "messenger_receipts_stored_total")).toBe(3);
    expect(delta(acked, "messenger_messages_stored_total")).toBe(3);
    expect(delta(acked, "messenger_bus_publishes_total")).toBe(7);
    await until((s) => figure(s, "messenger_queue_depth") === depthBefore + 3, "messages replaced by receipts");

    sub.unsubscribe();
    aliceWs.close();
    bobWs.close();
    await until(
      (s) => figure(s, "messenger_websocket_connections") === figure(before, "messenger_websocket_connections") && figure(s, "messenger_inbox_stream_devices") === 0,
      "the connections closed",
    );
  });

  it("reports the share outbox backlog and its age while nothing ships it", async () => {
    // No Facebook URL here: events stay in the outbox.
    const { sql } = messenger.server.services;
    await sql`insert into share_outbox (account_id, sequence, kind, occurred_at, payload, created_at)
              values (${alice.accountId}, 1000, 'account', now(), '{"fields":{}}', now() - interval '90 seconds'),
                     (${alice.accountId}, 1001, 'account', now(), '{"fields":{}}', now())`;
    const [{ pending } = { pending: 0 }] = await sql<{ pending: number }[]>`select count(*)::int as pending from share_outbox where shipped_at is null`;
    const samples = await until((s) => figure(s, "messenger_share_outbox_pending") === pending, `${pending} pending events`);
    expect(pending).toBeGreaterThanOrEqual(2);
    expect(figure(samples, "messenger_share_outbox_lag_seconds")).toBeGreaterThanOrEqual(90);
    expect(figure(samples, "messenger_share_events_shipped_total")).toBe(0);
  });

  it("reads a backlog past the exact count from the id range, and still gets it right", async () => {
    const { sql } = messenger.server.services;
    await sql`insert into share_outbox (account_id, sequence, kind, occurred_at, payload)
              select gen_random_uuid(), 1, 'account', now(), '{"fields":{}}' from generate_series(1, ${OUTBOX_EXACT_UP_TO + 500})`;
    const [{ pending } = { pending: 0 }] = await sql<{ pending: number }[]>`select count(*)::int as pending from share_outbox where shipped_at is null`;
    expect(pending).toBeGreaterThan(OUTBOX_EXACT_UP_TO);
    await until((s) => figure(s, "messenger_share_outbox_pending") === pending, `${pending} pending events`);
  });

  it("answers only /metrics itself, and keeps the API's 404 for anything else", async () => {
    const response = await fetch(`${origin}/metrics`);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect((await fetch(`${origin}/metricsx`)).status).toBe(404);
  });
});
