/**
 * The audit against a rollout driven through the real messenger and Facebook
 * services: it passes; then each kind of breach is planted directly in SQL and
 * caught by the check made for it (and by no unrelated check).
 */
import { spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSENT_PROPAGATION_MS } from "@handshake/consent";
import { rawClient } from "@handshake/db/client";
import { migrateDatabase } from "@handshake/db/migrate";
import { createTestDatabase } from "@handshake/db/testing";
import { runPrivacyAudit, type AuditReport } from "./audit";
import type { CheckId } from "./report";
import { PEOPLE, runRollout, type Rollout } from "../test/rollout";

const HAMBURG_ORDER = new Date("2016-09-27T00:00:00Z");
const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

let rollout: Rollout;
let facebook: postgres.Sql;
let messenger: postgres.Sql;

beforeAll(async () => {
  rollout = await runRollout();
  facebook = rawClient(rollout.facebook.url, { max: 2 });
  messenger = rawClient(rollout.messenger.url, { max: 2 });
});
afterAll(async () => {
  await facebook?.end({ timeout: 5 });
  await messenger?.end({ timeout: 5 });
  await rollout?.drop();
});

const audit = () => runPrivacyAudit({ messengerUrl: rollout.messenger.url, facebookUrl: rollout.facebook.url });
const failed = (report: AuditReport): CheckId[] => report.checks.filter((c) => c.verdict === "fail").map((c) => c.id);
const check = (report: AuditReport, id: CheckId) => report.checks.find((c) => c.id === id)!;
const reasons = (report: AuditReport, id: CheckId) => check(report, id).examples.map((b) => `${b.where} ${b.row}: ${b.reason}`).join("\n");

/** Plants rows, audits, and removes them again so every case starts from the clean rollout. */
async function withPlanted(plant: () => Promise<() => Promise<unknown>>): Promise<AuditReport> {
  const undo = await plant();
  try {
    return await audit();
  } finally {
    await undo();
  }
}

async function anEnvelope() {
  const [row] = await messenger<{ message_id: string; sender: string; recipient: string; content: Buffer }[]>`
    select message_id, sender_account_id as sender, recipient_account_id as recipient, content from envelopes order by id limit 1`;
  return row!;
}

async function insertSpamSignal(accountId: string, reason: string): Promise<() => Promise<unknown>> {
  const [row] = await facebook<{ id: string }[]>`
    insert into spam_signals (whatsapp_account_id, action, reason, at) values (${accountId}, 'throttle', ${reason}, ${rollout.endedAt})
    returning id::text as id`;
  return () => facebook`delete from spam_signals where id = ${row!.id}`;
}

async function insertAuditRow(accountId: string, datum: string, purpose: string, feature: string, at: Date) {
  const [row] = await facebook<{ id: string }[]>`
    insert into audit_log (whatsapp_account_id, datum, purpose, feature, at) values (${accountId}, ${datum}, ${purpose}, ${feature}, ${at})
    returning id::text as id`;
  return { id: row!.id, undo: () => facebook`delete from audit_log where id = ${row!.id}` };
}

describe("a rollout through the real messenger and Facebook side", () => {
  it("passes every check, and every check had rows to judge", async () => {
    const report = await audit();
    expect(failed(report), JSON.stringify(report.checks, null, 2)).toEqual([]);
    for (const c of report.checks) expect(c.examined, c.id).toBeGreaterThan(0);
    expect(report.breaches).toBe(0);
  });

  it("holds what makes the checks meaningful: German uses before the order only, choices reflected in what is held", async () => {
    const { accounts } = rollout;
    const german = await facebook<{ at: Date }[]>`
      select at from audit_log where whatsapp_account_id in ${facebook([accounts.deTicked, accounts.deUnticked, accounts.deNewcomer])}`;
    expect(german.length).toBeGreaterThan(0);
    for (const row of german) expect(row.at < HAMBURG_ORDER).toBe(true);
    const germanHeld = await facebook`
      select 1 from shared_data where whatsapp_account_id in ${facebook([accounts.deTicked, accounts.deUnticked, accounts.deNewcomer])}`;
    expect(germanHeld.length).toBe(0);
    const optedOutAds = await facebook`
      select 1 from shared_data where whatsapp_account_id = ${accounts.inOptOut} and 'ads' = any(purposes)`;
    expect(optedOutAds.length).toBe(0);
    const productUses = await facebook<{ n: number }[]>`
      select count(*)::int as n from audit_log where whatsapp_account_id = ${accounts.inOptOut} and purpose = 'product'`;
    expect(productUses[0]!.n).toBeGreaterThan(0); // linked before the opt-out: allowed then
    const viaWhatsapp = await facebook<{ whatsapp_account_id: string }[]>`
      select whatsapp_account_id from audience_members where via_whatsapp`;
    expect(viaWhatsapp.map((r) => r.whatsapp_account_id)).toEqual([accounts.inTicked]);
    const adUses = await facebook<{ n: number }[]>`select count(*)::int as n from audit_log where purpose = 'ads'`;
    expect(adUses[0]!.n).toBeGreaterThan(0);
    const responses = await facebook<{ n: number }[]>`select count(*)::int as n from advertiser_api_log`;
    expect(responses[0]!.n).toBeGreaterThanOrEqual(10);
    const queued = await messenger<{ n: number }[]>`select count(*)::int as n from envelopes`;
    expect(queued[0]!.n).toBeGreaterThan(0); // ciphertexts for check 1 to look for
  });
});

describe("planted breaches are caught by the check made for them", () => {
  it("a messenger message id in a Facebook row, with or without dashes (check 1)", async () => {
    const envelope = await anEnvelope();
    const report = await withPlanted(async () => {
      const undoSignal = await insertSpamSignal(rollout.accounts.us, `burst, e.g. message ${envelope.message_id}`);
      await facebook`insert into profiles (id, name, country) values (990001, ${`note ${envelope.message_id.replaceAll("-", "")}`}, 'US')`;
      return async () => {
        await undoSignal();
        await facebook`delete from profiles where id = 990001`;
      };
    });
    expect(failed(report)).toEqual(["no-message-data"]);
    expect(check(report, "no-message-data").breaches).toBe(2);
    expect(reasons(report, "no-message-data")).toContain(envelope.message_id);
  });

  it("a message id queued on another database of a shard map, in a Facebook row (check 1, with the shard's URL)", async () => {
    // The messenger's second database: only its own recipients' queue lives there.
    const shard = await createTestDatabase("audit_messenger_shard");
    await migrateDatabase(shard.url, "messenger");
    const shardSql = rawClient(shard.url, { max: 1 });
    try {
      const messageId = randomUUID();
      await shardSql`
        insert into envelopes (recipient_shard, recipient_account_id, recipient_device_id, sender_account_id, sender_device_id,
                               message_id, type, content, server_timestamp, expires_at)
        values (7000, ${randomUUID()}, 1, ${rollout.accounts.us}, 1, ${messageId}, 1, ${Buffer.from("opaque")}, now(), now() + interval '1 day')`;
      const undo = await insertSpamSignal(rollout.accounts.us, `burst, e.g. message ${messageId}`);
      try {
        const withShard = await runPrivacyAudit({ messengerUrl: rollout.messenger.url, messengerShardUrls: [shard.url], facebookUrl: rollout.facebook.url });
        expect(failed(withShard)).toEqual(["no-message-data"]);
        expect(reasons(withShard, "no-message-data")).toContain(messageId);
        // Home alone does not hold it: an audit that knew only home would pass.
        expect(failed(await audit())).toEqual([]);
      } finally {
        await undo();
      }
    } finally {
      await shardSql.end({ timeout: 5 });
      await shard.drop();
    }
  });

  it("a stored ciphertext, as base64 text and as bytea (check 1)", async () => {
    const envelope = await anEnvelope();
    const report = await withPlanted(async () => {
      const undoSignal = await insertSpamSignal(rollout.accounts.us, envelope.content.toString("base64"));
      const [audience] = await facebook<{ id: string }[]>`select id from audiences limit 1`;
      await facebook`insert into audience_hashes (audience_id, hash) values (${audience!.id}, ${envelope.content})`;
      return async () => {
        await undoSignal();
        await facebook`delete from audience_hashes where hash = ${envelope.content}`;
      };
    });
    expect(failed(report)).toEqual(["no-message-data"]);
    expect(check(report, "no-message-data").breaches).toBe(2);
    expect(reasons(report, "no-message-data")).toMatch(/ciphertext of envelope/);
  });

  it("who wrote to whom: a sender and its recipient in one row (check 1)", async () => {
    const envelope = await anEnvelope();
    const report = await withPlanted(() => insertSpamSignal(envelope.sender, `reported by ${envelope.recipient}`));
    expect(failed(report)).toEqual(["no-message-data"]);
    expect(reasons(report, "no-message-data")).toMatch(/sender\/recipient pair/);
  });

  it("a column made for message data (check 1, schema)", async () => {
    const report = await withPlanted(async () => {
      await facebook`alter table spam_signals add column message_body text`;
      return () => facebook`alter table spam_signals drop column message_body`;
    });
    expect(failed(report)).toEqual(["no-message-data"]);
    expect(reasons(report, "no-message-data")).toContain("spam_signals.message_body");
  });

  it("shared data held for a German account (check 2; checks 6 and 7 too: it may not be held now, and differs from the newest snapshot)", async () => {
    const account = rollout.accounts.deUnticked;
    const report = await withPlanted(async () => {
      await facebook`insert into shared_data (whatsapp_account_id, field, value, purposes, shared_at, sequence)
        values (${account}, 'country', ${facebook.json("DE")}, ${facebook.array(["spam"])}::text[], ${rollout.endedAt}, 999999)`;
      return () => facebook`delete from shared_data where whatsapp_account_id = ${account}`;
    });
    expect(failed(report)).toEqual(["nothing-under-ban", "held-now-allowed-now", "newest-snapshot-held"]);
    expect(reasons(report, "nothing-under-ban")).toContain(account);
  });

  it("an audit row for a German account after the order (check 2; check 4 too)", async () => {
    const planted = await insertAuditRow(rollout.accounts.deTicked, "messagesSentCount", "spam", "spam-check", rollout.endedAt);
    let report: AuditReport;
    try {
      report = await audit();
    } finally {
      await planted.undo();
    }
    expect(failed(report)).toEqual(["nothing-under-ban", "purpose-allowed-at-use"]);
    expect(reasons(report, "nothing-under-ban")).toContain(`id ${planted.id}`);
  });

  it("an audience membership through WhatsApp for a German account (check 2 only)", async () => {
    const report = await withPlanted(async () => {
      const [audience] = await facebook<{ id: string }[]>`select id from audiences limit 1`;
      await facebook`insert into audience_members (audience_id, profile_id, whatsapp_account_id, via_whatsapp)
        values (${audience!.id}, 10000, ${rollout.accounts.deTicked}, true)`;
      return () => facebook`delete from audience_members where whatsapp_account_id = ${rollout.accounts.deTicked}`;
    });
    expect(failed(report)).toEqual(["nothing-under-ban"]);
    expect(reasons(report, "nothing-under-ban")).toMatch(/audience_members/);
  });

  it("an ads use of an opted-out account after its opt-out (check 3; check 4 too)", async () => {
    const planted = await insertAuditRow(rollout.accounts.inOptOut, "phoneNumber", "ads", "audience-match", rollout.endedAt);
    let report: AuditReport;
    try {
      report = await audit();
    } finally {
      await planted.undo();
    }
    expect(failed(report)).toEqual(["no-choice-use-after-opt-out", "purpose-allowed-at-use"]);
    expect(reasons(report, "no-choice-use-after-opt-out")).toContain(`id ${planted.id}`);
  });

  it("an ads use within CONSENT_PROPAGATION_MS of an opt-out is excused (noted); one just past it fails checks 3 and 4", async () => {
    const [optOut] = await messenger<{ at: Date }[]>`
      select at from consent_events where account_id = ${rollout.accounts.inOptOut} and kind = 'share-opted-out'`;
    const inside = await insertAuditRow(rollout.accounts.inOptOut, "phoneNumber", "ads", "audience-match", new Date(optOut!.at.getTime() + CONSENT_PROPAGATION_MS - 1));
    let report: AuditReport;
    try {
      report = await audit();
    } finally {
      await inside.undo();
    }
    expect(failed(report)).toEqual([]);
    expect(check(report, "no-choice-use-after-opt-out").notes.join(" ")).toMatch(/\d+ uses within 10 s of an opt-out/);
    expect(check(report, "purpose-allowed-at-use").notes.join(" ")).toMatch(/\d+ uses within 10 s of a consent change/);

    const past = await insertAuditRow(rollout.accounts.inOptOut, "phoneNumber", "ads", "audience-match", new Date(optOut!.at.getTime() + CONSENT_PROPAGATION_MS + 1));
    try {
      report = await audit();
    } finally {
      await past.undo();
    }
    expect(failed(report)).toEqual(["no-choice-use-after-opt-out", "purpose-allowed-at-use"]);
    expect(reasons(report, "purpose-allowed-at-use")).toContain(`id ${past.id}`);
  });

  it("a use dated before the account accepted the 2016 terms (check 4 only)", async () => {
    const before = new Date("2016-08-22T12:00:00Z");
    const planted = await insertAuditRow(rollout.accounts.inTicked, "messagesSentCount", "spam", "spam-check", before);
    let report: AuditReport;
    try {
      report = await audit();
    } finally {
      await planted.undo();
    }
    expect(failed(report)).toEqual(["purpose-allowed-at-use"]);
    expect(reasons(report, "purpose-allowed-at-use")).toMatch(new RegExp(`id ${planted.id} .*the 2016 terms were not accepted by then`));
  });

  it("a withdrawal not applied: ads purposes still held for an opted-out account (check 6; check 7 too)", async () => {
    const account = rollout.accounts.inOptOut;
    const report = await withPlanted(async () => {
      await facebook`update shared_data set purposes = purposes || '{ads}'::text[] where whatsapp_account_id = ${account} and field = 'phoneNumber'`;
      return () => facebook`update shared_data set purposes = array_remove(purposes, 'ads') where whatsapp_account_id = ${account}`;
    });
    expect(failed(report)).toEqual(["held-now-allowed-now", "newest-snapshot-held"]);
    expect(reasons(report, "held-now-allowed-now")).toContain(`account ${account}, field phoneNumber: held for ads`);
  });

  it("a snapshot built from stale consent after an opt-out, still in the outbox (check 7 only)", async () => {
    const account = rollout.accounts.inOptOut;
    const report = await withPlanted(async () => {
      // What the race of issue 10 wrote: the next sequence, granting ads and product, from the pre-opt-out state.
      const [row] = await messenger<{ id: string }[]>`
        insert into share_outbox (account_id, sequence, kind, occurred_at, payload)
        select account_id, max(sequence) + 1, 'usage', ${rollout.endedAt},
               ${messenger.json({ fields: { phoneNumber: { value: PEOPLE.inOptOut.phone, purposes: ["ads", "product", "spam"] } } })}
        from share_outbox where account_id = ${account} group by account_id
        returning id::text as id`;
      return () => messenger`delete from share_outbox where id = ${row!.id}`;
    });
    expect(failed(report)).toEqual(["newest-snapshot-held"]);
    expect(reasons(report, "newest-snapshot-held")).toMatch(
      new RegExp(`share_outbox account ${account}, sequence \\d+, field phoneNumber: newest snapshot grants ads, product`),
    );
  });

  it("an older snapshot applied over the newest at Facebook, e.g. after a withdrawal (check 7 only)", async () => {
    const account = rollout.accounts.inTicked;
    const report = await withPlanted(async () => {
      const [mark] = await facebook<{ sequence: string }[]>`
        update ingest_watermarks set sequence = sequence - 1 where whatsapp_account_id = ${account} returning (sequence + 1)::text as sequence`;
      const [os] = await facebook<{ value: unknown; purposes: string[]; shared_at: Date; sequence: string }[]>`
        delete from shared_data where whatsapp_account_id = ${account} and field = 'os' returning value, purposes, shared_at, sequence::text`;
      return async () => {
        await facebook`update ingest_watermarks set sequence = ${mark!.sequence} where whatsapp_account_id = ${account}`;
        await facebook`insert into shared_data (whatsapp_account_id, field, value, purposes, shared_at, sequence)
                       values (${account}, 'os', ${facebook.json(os!.value as never)}, ${os!.purposes}, ${os!.shared_at}, ${os!.sequence})`;
      };
    });
    expect(failed(report)).toEqual(["newest-snapshot-held"]);
    expect(reasons(report, "newest-snapshot-held")).toContain(`ingest_watermarks account ${account}`);
  });

  it("advertiser responses carrying a phone number, a hash and a profile id (check 5)", async () => {
    const hash = createHash("sha256").update(PEOPLE.inTicked.phone.slice(1)).digest("hex");
    const responses = [
      { data: { matched: [`+${PEOPLE.us.phone.slice(1, 2)} ${PEOPLE.us.phone.slice(2)}`] } },
      { data: { audienceId: "00000000-0000-4000-8000-000000000000", sample: [hash] } },
      { data: { audienceId: "00000000-0000-4000-8000-000000000000", reach: [PEOPLE.fr.profileId] } },
    ];
    const report = await withPlanted(async () => {
      const rows = await facebook<{ id: string }[]>`
        insert into advertiser_api_log (path, response)
        select 'audiences.get', r from unnest(${facebook.array(responses.map((r) => JSON.stringify(r)))}::jsonb[]) as r
        returning id::text as id`;
      return () => facebook`delete from advertiser_api_log where id = any(${facebook.array(rows.map((r) => r.id))}::int8[])`;
    });
    expect(failed(report)).toEqual(["advertiser-responses-clean"]);
    expect(check(report, "advertiser-responses-clean").breaches).toBe(3);
    const found = reasons(report, "advertiser-responses-clean");
    expect(found).toMatch(/phone at data\.matched\[0\]/);
    expect(found).toMatch(/hash at data\.sample\[0\]/);
    expect(found).toMatch(/profile-id at data\.reach\[0\]/);
  });
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(packageDir, "node_modules/.bin/tsx"), ["src/main.ts", ...args], { cwd: packageDir });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the CLI", () => {
  it("exits 0 with a table of passing checks, and 1 with the failing check's examples on a breach", async () => {
    const urls = ["--messenger-database-url", rollout.messenger.url, "--facebook-database-url", rollout.facebook.url, "--no-progress"];
    const clean = await cli(urls);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/^check\s+rows examined\s+breaches\s+verdict/);
    expect(clean.stdout).toMatch(/PASS: 0 of 7 checks failed/);

    const planted = await insertAuditRow(rollout.accounts.inOptOut, "phoneNumber", "ads", "ad", rollout.endedAt);
    try {
      const dirty = await cli(urls);
      expect(dirty.code, dirty.stderr).toBe(1);
      expect(dirty.stdout).toMatch(/3 no ads\/product use for opted-out accounts\s+\d+\s+1\s+FAIL/);
      expect(dirty.stdout).toContain(`audit_log id ${planted.id}`);
      expect(dirty.stdout).not.toContain(PEOPLE.inOptOut.phone);
    } finally {
      await planted.undo();
    }
  });

  it("exits 2 on a bad argument, with the usage", async () => {
    const result = await cli(["--messenger-database-url", rollout.messenger.url, "--examples", "x"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--examples must be a whole number/);
    expect(result.stderr).toMatch(/usage: pnpm audit:privacy/);
  });
});
