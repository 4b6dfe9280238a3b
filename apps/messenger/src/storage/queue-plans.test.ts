/**
 * The queue writer's statements must cost PostgreSQL a bounded amount per message
 * whatever the batch size and whatever the planner believes about the tables.
 *
 * The failure this guards against is a plan shape, not a time: a batch-sized input
 * (the `unnest` of the batch's arrays, or a data-modifying CTE, which PostgreSQL
 * assumes holds one row) placed on the inner side of a nested loop is rescanned once
 * per row of the outer side, so the statement becomes quadratic in the batch. It
 * showed when the envelopes table had just been analysed with few live rows (a new
 * database, a drained queue), and it grows exactly when the writer falls behind and
 * its batches grow. The same goes for a table scanned once per row of the batch (the
 * previous envelope of each recipient looked up by a sequential scan of a queue that
 * "has three rows"). The test provokes those statistics, lets the writer commit
 * batches of a few hundred sends and acks, and reads each statement's executed plan
 * from auto_explain (sent to this client as a NOTICE): no node that scans a whole
 * input (Function Scan, CTE Scan, Seq Scan) may run more than once.
 *
 * The insert's "never accepted" test is an index probe (`not exists`), safe only because
 * the writers' advisory lock lets one batch at a time write, across nodes: the second
 * test races two writers (two pools, as two nodes) over the same messages. Without the
 * lock it fails (messages stored twice, or refused by the primary key).
 */
import postgres from "postgres";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase } from "@handshake/db/migrate";
import { createTestDatabase, type TestDatabase } from "@handshake/db/testing";
import type { Clock } from "../clock";
import { createLogger } from "../log";
import { LocalInboxBus } from "../relay/bus";
import { QueueWriter } from "./queue";

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  Alias?: string;
  "Actual Loops"?: number;
  "Actual Rows"?: number;
  Plans?: PlanNode[];
}

let database: TestDatabase;
let sql: postgres.Sql;
const plans: { query: string; plan: PlanNode }[] = [];
const clock: Clock = { now: () => new Date("2016-08-20T08:00:00Z") };
const accounts = Array.from({ length: 300 }, () => randomUUID());

beforeAll(async () => {
  database = await createTestDatabase("queue_plans");
  await migrateDatabase(database.url, "messenger");
  sql = postgres(database.url, {
    max: 2,
    // Every statement's executed plan comes back to this client as a NOTICE.
    connection: {
      session_preload_libraries: "auto_explain",
      "auto_explain.log_min_duration": "0",
      "auto_explain.log_analyze": "on",
      "auto_explain.log_timing": "off",
      "auto_explain.log_format": "json",
      "auto_explain.log_level": "notice",
    },
    onnotice: (notice) => {
      const text = String(notice.message);
      const json = text.slice(text.indexOf("{"));
      if (!json.startsWith("{")) return;
      const parsed = JSON.parse(json) as { "Query Text": string; Plan: PlanNode };
      plans.push({ query: parsed["Query Text"], plan: parsed.Plan });
    },
  });
  await sql`
    insert into accounts (id, phone_number, country, shard, kind, created_at)
    select id, '+4915100' || lpad(i::text, 6, '0'), 'DE', i % 10000, 'personal', now()
    from unnest(${accounts}::uuid[]) with ordinality as t(id, i)`;
  await sql`
    insert into devices (account_id, device_id, credential_hash, os, os_version, app_version, model, created_at)
    select id, 1, '\\x00', 'android', '6', '2.16', 'test', now() from unnest(${accounts}::uuid[]) as t(id)`;
  // What a drained queue looks like to the planner: a handful of live rows.
  await sql`
    insert into envelopes (recipient_shard, recipient_account_id, recipient_device_id, sender_account_id, sender_device_id,
                           message_id, type, content, server_timestamp, expires_at)
    select 1, ${accounts[0]!}, 1, ${accounts[1]!}, 1, gen_random_uuid(), 1, '\\x00', now(), now() + interval '30 days'
    from generate_series(1, 3)`;
  await sql`analyze envelopes`;
  await sql`analyze accepted_messages`;
});

afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

/**
 * Nodes that scan a whole input more than once: the batch (its unnest, or a CTE over it),
 * or a table (a sequential scan per row of the batch).
 */
function rescans(node: PlanNode, found: string[] = []): string[] {
  const whole = node["Node Type"] === "Function Scan" || node["Node Type"] === "CTE Scan" || node["Node Type"] === "Seq Scan";
  if (whole && (node["Actual Loops"] ?? 0) > 1) found.push(`${node["Node Type"]} on ${node.Alias} × ${node["Actual Loops"]}`);
  for (const child of node.Plans ?? []) rescans(child, found);
  return found;
}

describe("queue writer plans", () => {
  it("a batch of hundreds of sends and acks scans each batch-sized input and each table at most once, with statistics of a near-empty queue", async () => {
    const bus = new LocalInboxBus();
    const stored = new Map<string, { recipient: string; id: string }>();
    for (const accountId of accounts) {
      bus.subscribe({ accountId, deviceId: 1 }, (notice) => {
        if (notice.envelope) stored.set(notice.envelope.messageId + notice.envelope.type, { recipient: accountId, id: notice.envelope.id });
      });
    }
    // afterStore given: the insert also counts usage (the home database's statement).
    const writer = new QueueWriter(sql, bus, clock, createLogger({ level: "silent" }), { afterStore: async () => {} });
    const content = Buffer.alloc(64, 7);
    // Enqueued together: the first batch takes one, the next all the others.
    const sends = Array.from({ length: 400 }, (_, i) => ({
      sender: { accountId: accounts[i % 300]!, deviceId: 1 },
      recipient: { accountId: accounts[(i * 7 + 1) % 300]!, deviceId: 1 },
      messageId: randomUUID(),
      type: 1,
      content,
      category: null,
    }));
    const outcomes = await Promise.all(sends.map((item) => writer.send(item)));
    expect(outcomes.every((o) => o.status === "stored")).toBe(true);
    // A resend of every message in one batch: all duplicates, nothing stored twice.
    const again = await Promise.all(sends.map((item) => writer.send(item)));
    expect(again.every((o) => o.status === "duplicate")).toBe(true);

    const acks = sends.map((item) => {
      const envelope = stored.get(item.messageId + "1")!;
      return writer.ack({ accountId: envelope.recipient, deviceId: 1 }, [envelope.id]);
    });
    const acknowledged = await Promise.all(acks);
    expect(acknowledged.reduce((n, a) => n + a.acknowledged, 0)).toBe(400);
    // Each acknowledged message left one receipt for its sender.
    const receipts = sends.filter((item) => stored.has(item.messageId + "5"));
    expect(receipts.length).toBe(400);
    await writer.close();

    // The writer's statements (the seeding above ran on this client too, before the writer).
    const writes = plans.filter((p) => /unnest\(/.test(p.query) && !/insert into (accounts|devices)/.test(p.query));
    // The statements ran with batches in the hundreds (else the test proves nothing).
    const largest = Math.max(...writes.map((p) => p.plan["Actual Rows"] ?? 0));
    expect(largest).toBeGreaterThanOrEqual(300);
    for (const { query, plan } of writes) {
      expect(rescans(plan), query.slice(0, 200)).toEqual([]);
    }
  });
});

describe("two writers on one database (two nodes)", () => {
  it("the same messages sent through both at once are stored once each: one writer answers stored, the other duplicate with the same envelope", async () => {
    // Two pools, as two nodes have: the "never accepted" probe relies on the advisory lock
    // letting one batch at a time write, across writers.
    const other = postgres(database.url, { max: 2, onnotice: () => {} });
    const logger = createLogger({ level: "silent" });
    const writers = [new QueueWriter(sql, new LocalInboxBus(), clock, logger), new QueueWriter(other, new LocalInboxBus(), clock, logger)];
    const content = Buffer.alloc(16, 1);
    try {
      for (let round = 0; round < 5; round++) {
        const sends = Array.from({ length: 150 }, (_, i) => ({
          sender: { accountId: accounts[(i + round) % 300]!, deviceId: 1 },
          recipient: { accountId: accounts[(i * 11 + round + 2) % 300]!, deviceId: 1 },
          messageId: randomUUID(),
          type: 1,
          content,
          category: null,
        }));
        // Each message through both writers, interleaved, so their batches overlap.
        const outcomes = await Promise.all(sends.flatMap((item) => [writers[0]!.send(item), writers[1]!.send(item)]));
        for (let i = 0; i < sends.length; i++) {
          const pair = [outcomes[2 * i]!, outcomes[2 * i + 1]!];
          expect(pair.map((o) => o.status).sort()).toEqual(["duplicate", "stored"]);
          const ids = pair.map((o) => ("envelopeId" in o ? o.envelopeId : null));
          expect(ids[0]).toEqual(ids[1]);
        }
        const ids = sends.map((s) => s.messageId);
        const rows = await sql<{ n: number }[]>`select count(*)::int as n from envelopes where message_id = any(${ids}::uuid[])`;
        expect(rows[0]!.n).toBe(150);
      }
    } finally {
      await Promise.all(writers.map((w) => w.close()));
      await other.end();
    }
  });
});
