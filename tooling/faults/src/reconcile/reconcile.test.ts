/**
 * Reconciliation counts what it claims to, from real migrated databases: a lost
 * durable message (stored without the sender hearing so), a duplicate, an
 * out-of-order delivery, a share event Facebook never ingested, and accounts whose
 * Facebook data disagrees with their newest consent (a leak after an opt-out, a
 * grant that never arrived) — while an account in agreement is not counted.
 */
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase } from "@handshake/db/migrate";
import { createTestDatabase, type TestDatabase } from "@handshake/db/testing";
import type { MessagingLedger } from "../load/messaging";
import { consentFigures, messageFigures, shareFigures } from "./reconcile";

let messengerDb: TestDatabase;
let facebookDb: TestDatabase;
let messenger: postgres.Sql;
let facebook: postgres.Sql;

beforeAll(async () => {
  [messengerDb, facebookDb] = await Promise.all([createTestDatabase("faults_m"), createTestDatabase("faults_f")]);
  await Promise.all([migrateDatabase(messengerDb.url, "messenger"), migrateDatabase(facebookDb.url, "facebook")]);
  messenger = postgres(messengerDb.url, { max: 1, onnotice: () => {} });
  facebook = postgres(facebookDb.url, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await Promise.all([messenger.end(), facebook.end()]);
  await Promise.all([messengerDb.drop(), facebookDb.drop()]);
});

describe("messageFigures", () => {
  it("counts lost, duplicated, out-of-order and stored-but-unacknowledged messages", async () => {
    const sender = randomUUID();
    const recipient = randomUUID();
    const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const ledger: MessagingLedger = {
      senderAccountIds: [sender],
      sent: ids.map((messageId, seq) => ({
        messageId,
        sender: 0,
        seq,
        recipientAccountId: recipient,
        // The last one: stored, but its reply was lost and the sender gave up.
        acknowledged: seq < 3,
        answeredDuplicate: false,
        attempts: 1,
      })),
      recipients: [
        {
          accountId: recipient,
          delivered: [0, 2, 1, 0].map((seq, i) => ({ messageId: ids[seq]!, envelopeId: String(i + 1), sender: 0, seq, at: i })),
          failures: [],
        },
      ],
    };
    for (const [i, messageId] of ids.entries()) {
      await messenger`
        insert into accepted_messages (sender_account_id, message_id, recipient_account_id, envelope_id, accepted_at)
        values (${sender}, ${messageId}, ${recipient}, ${i + 1}, now())`;
    }
    await messenger`
      insert into envelopes (recipient_shard, recipient_account_id, recipient_device_id, sender_account_id, sender_device_id,
                             message_id, type, content, server_timestamp, expires_at)
      values (0, ${recipient}, 1, ${sender}, 1, ${ids[3]!}, 1, '\\x00', now(), now() + interval '30 days')`;

    const figures = await messageFigures(messenger, ledger);
    expect(figures).toMatchObject({
      acknowledged: 3,
      storedUnacknowledged: 1,
      delivered: 3,
      lost: 1,
      duplicated: 1,
      outOfOrder: 1,
      stillQueued: 1,
    });
    expect(figures.lostExamples).toEqual([ids[3]]);
  });
});

describe("shareFigures", () => {
  it("counts events written, ingested by Facebook, and missing", async () => {
    const account = randomUUID();
    const events = await messenger<{ sequence: string; event_id: string }[]>`
      insert into share_outbox (account_id, sequence, kind, occurred_at, payload, shipped_at)
      values (${account}, 1, 'consent', now(), '{"fields":{}}', now()), (${account}, 2, 'usage', now(), '{"fields":{}}', null)
      returning sequence, event_id`;
    await facebook`
      insert into ingested_events (event_id, whatsapp_account_id, kind, sequence, occurred_at)
      values (${events[0]!.event_id}, ${account}, 'consent', ${Number(events[0]!.sequence)}, now())`;
    expect(await shareFigures(messenger, facebook, [account])).toEqual({ written: 2, ingested: 1, missing: 1, unshipped: 1 });
  });
});

describe("consentFigures", () => {
  it("finds a leak after an opt-out and a grant that never arrived, and passes an account in agreement", async () => {
    const [optedOut, unticked, neverArrived] = [randomUUID(), randomUUID(), randomUUID()];
    const registered = new Date("2016-08-20T09:00:00Z");
    for (const [i, id] of [optedOut, unticked, neverArrived].entries()) {
      await messenger`
        insert into accounts (id, phone_number, country, shard, kind, created_at)
        values (${id}, ${`+91980000010${i}`}, 'IN', 0, 'personal', ${registered})`;
    }
    const accepted = new Date("2016-08-25T02:00:00Z");
    const accept = (id: string, share: boolean) => messenger`
      insert into consent_events (account_id, kind, policy_version, share_with_facebook, at)
      values (${id}, 'terms-accepted', '2016-08-25', ${share}, ${accepted})`;
    await accept(optedOut, true);
    await accept(unticked, false);
    await accept(neverArrived, true);
    await messenger`
      insert into consent_events (account_id, kind, policy_version, at)
      values (${optedOut}, 'share-opted-out', '2016-08-25', ${new Date("2016-08-26T00:00:00Z")})`;
    await messenger`insert into simulation_clock (id, sim_ms, real_ms) values (1, ${Date.parse("2016-08-27T00:00:00Z")}, ${Date.now()})`;

    const hold = (id: string, purposes: string[]) => facebook`
      insert into shared_data (whatsapp_account_id, field, value, purposes, shared_at, sequence)
      values (${id}, 'phoneNumber', '"+91"', ${`{${purposes.join(",")}}`}::text[], ${accepted}, 1)`;
    await hold(optedOut, ["ads", "product", "metrics", "security", "spam"]);
    await hold(unticked, ["spam", "metrics", "security"]);

    const figures = await consentFigures(messenger, facebook, [optedOut, unticked, neverArrived], "optout-2016");
    expect(figures.accounts).toBe(3);
    expect(figures.disagreements).toBe(2);
    expect(figures.examples.map((e) => e.accountId).sort()).toEqual([optedOut, neverArrived].sort());
    const leak = figures.examples.find((e) => e.accountId === optedOut)!;
    expect(leak.expected.phoneNumber).not.toContain("ads");
    expect(leak.held.phoneNumber).toContain("ads");
  });
});
