/**
 * Snapshots written before a regulator's date but shipped after it (Facebook down,
 * a backlog, batches in flight while an admin moves the clock): the shipper's check
 * at the door (apps/messenger/src/share/ship-check.ts) narrows them to what the
 * regime in force when they leave allows, so Facebook never links or spam-checks a
 * German account after the Hamburg order (2016-09-27), while other accounts keep
 * sharing as before.
 */
import { afterEach, describe, expect, it } from "vitest";
import { runPrivacyAudit } from "@handshake/privacy-audit";
import { facebookAdmin, startPipeline, type MessengerApi, type Pipeline } from "./harness";

const HAMBURG = "2016-09-27T00:00:00Z";
let pipeline: Pipeline | null = null;
afterEach(async () => {
  await pipeline?.close();
  pipeline = null;
});

interface Account {
  accountId: string;
  api: MessengerApi;
  phone: string;
  country: string;
}

async function registerAll(p: Pipeline, phones: string[], country: string): Promise<Account[]> {
  const out: Account[] = [];
  for (let i = 0; i < phones.length; i += 25) {
    out.push(...(await Promise.all(phones.slice(i, i + 25).map(async (phone) => ({ ...(await p.register(phone)), phone, country })))));
  }
  return out;
}

const germanPhones = (base: number, n: number) => Array.from({ length: n }, (_, i) => `+49151${String(base + i).padStart(8, "0")}`);
const indianPhones = (base: number, n: number) => Array.from({ length: n }, (_, i) => `+9198${String(base + i).padStart(8, "0")}`);

async function acceptAll(accounts: Account[]) {
  for (let i = 0; i < accounts.length; i += 25) {
    await Promise.all(accounts.slice(i, i + 25).map((a) => a.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true })));
  }
}

/** Facebook knows every number: a phone held for `product` links the account. */
async function knowProfiles(p: Pipeline, accounts: Account[]) {
  await facebookAdmin(p.facebook!.url).profiles.upsert.mutate({
    profiles: accounts.map((a, i) => ({ id: 70_000 + i, name: `P${i}`, country: a.country, phoneNumber: a.phone })),
  });
}

/** What Facebook did with, and holds of, these accounts after the Hamburg order. */
async function facebookAfterHamburg(p: Pipeline, accounts: Account[]) {
  const fb = p.facebook!.server.services.sql;
  const ids = fb.array(accounts.map((a) => a.accountId));
  const uses = await fb<{ whatsapp_account_id: string; feature: string; purpose: string; at: Date }[]>`
    select whatsapp_account_id, feature, purpose, at from audit_log where whatsapp_account_id = any(${ids}::uuid[]) and at >= ${HAMBURG}`;
  const held = await fb<{ whatsapp_account_id: string }[]>`select distinct whatsapp_account_id from shared_data where whatsapp_account_id = any(${ids}::uuid[])`;
  const links = await fb<{ whatsapp_account_id: string }[]>`select whatsapp_account_id from links where whatsapp_account_id = any(${ids}::uuid[])`;
  return { uses, held: held.length, links: links.length };
}

async function linkedAndSharing(p: Pipeline, accounts: Account[]) {
  const fb = p.facebook!.server.services.sql;
  const ids = fb.array(accounts.map((a) => a.accountId));
  const links = await fb<{ n: number }[]>`select count(distinct whatsapp_account_id)::int as n from links where whatsapp_account_id = any(${ids}::uuid[])`;
  const ads = await fb<{ n: number }[]>`
    select count(distinct whatsapp_account_id)::int as n from shared_data where whatsapp_account_id = any(${ids}::uuid[]) and 'ads' = any(purposes)`;
  return { linked: links[0]!.n, ads: ads[0]!.n };
}

async function auditFailures(p: Pipeline) {
  const report = await runPrivacyAudit({ messengerUrl: p.messenger.databaseUrl, facebookUrl: p.facebook!.databaseUrl });
  return report.checks.filter((c) => c.verdict === "fail").map((c) => `${c.id}: ${JSON.stringify(c)}`.slice(0, 600));
}

describe("snapshots written before the Hamburg order, shipped after it", () => {
  it("Facebook down across an admin clock jump: on its return it never uses a German account's data and ends holding nothing", async () => {
    // Small batches: the withdrawal snapshots arrive in later batches than the stale ones.
    const p = (pipeline = await startPipeline({ regime: "historical-2016", shipper: { batchSize: 4 } }));
    const germans = await registerAll(p, germanPhones(90_000_100, 12), "DE");
    const indians = await registerAll(p, indianPhones(60_000_100, 6), "IN");
    await knowProfiles(p, [...germans, ...indians]);
    await p.stopFacebook();

    await p.admin.admin.setClock.mutate({ at: "2016-08-25T01:00:00Z" });
    await acceptAll([...germans, ...indians]);
    const shipper = p.messenger.server.services.share.shipper!;
    expect((await shipper.status()).pending).toBe(germans.length + indians.length);

    await p.admin.admin.setClock.mutate({ at: "2016-09-28T00:00:00Z" });
    await p.startFacebook();
    await shipper.drained(30_000);

    expect(await facebookAfterHamburg(p, germans)).toEqual({ uses: [], held: 0, links: 0 });
    // No over-narrowing: the Indian accounts share for ads/product and are linked.
    expect(await linkedAndSharing(p, indians)).toEqual({ linked: indians.length, ads: indians.length });
    expect(await auditFailures(p)).toEqual([]);
  }, 120_000);

  it("many accounts accepting while the clock jumps across the date end the same way", async () => {
    const p = (pipeline = await startPipeline({ regime: "historical-2016", shipper: { batchSize: 7 } }));
    const germans = await registerAll(p, germanPhones(90_000_200, 80), "DE");
    const indians = await registerAll(p, indianPhones(60_000_200, 20), "IN");
    await knowProfiles(p, [...germans, ...indians]);
    await p.admin.admin.setClock.mutate({ at: "2016-09-26T23:00:00Z" });

    // Acceptances (each writing a snapshot that the shipper picks up at once) race the jump.
    const everyone = [...germans, ...indians].sort(() => Math.random() - 0.5);
    await Promise.all([
      acceptAll(everyone),
      (async () => {
        await new Promise((resolve) => setTimeout(resolve, 150));
        await p.admin.admin.setClock.mutate({ at: "2016-09-28T00:00:00Z" });
      })(),
    ]);
    await p.messenger.server.services.share.shipper!.drained(60_000);
    // The race happened: some German snapshots were written before the date (others after it).
    const { sql } = p.messenger.server.services;
    const [early] = await sql<{ n: number }[]>`
      select count(*)::int as n from share_outbox
      where kind = 'consent' and occurred_at < ${HAMBURG} and account_id = any(${sql.array(germans.map((g) => g.accountId))}::uuid[])`;
    expect(early!.n).toBeGreaterThan(0);

    expect(await facebookAfterHamburg(p, germans)).toEqual({ uses: [], held: 0, links: 0 });
    expect(await linkedAndSharing(p, indians)).toEqual({ linked: indians.length, ads: indians.length });
    expect(await auditFailures(p)).toEqual([]);
  }, 180_000);
});
