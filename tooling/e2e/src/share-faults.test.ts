/**
 * The share pipeline under concurrency and faults, both services real: opt-outs
 * racing message batches end with Facebook holding nothing for ads or product;
 * the shipper's backoff ends when Facebook comes back; lost ingest replies are
 * resent and applied once; more than a page of spam signals is delivered.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "@handshake/db/embedded";
import { runPrivacyAudit } from "@handshake/privacy-audit";
import { createTRPCClient, httpLink } from "@trpc/client";
import type { AppRouter as FacebookRouter } from "@handshake/facebook";
import { TEST_SERVICE_TOKEN } from "@handshake/messenger/testing";
import { IngestProxy } from "./ingest-proxy";
import { facebookAdmin, startPipeline, type MessengerApi, type Pipeline } from "./harness";

/** Facebook's ingest as the shipper calls it (service credential). */
const facebookIngest = (url: string) =>
  createTRPCClient<FacebookRouter>({ links: [httpLink({ url, headers: { authorization: `Bearer ${TEST_SERVICE_TOKEN}` } })] });

const ANNOUNCED = new Date("2016-08-25T00:00:00Z");
let pipeline: Pipeline | null = null;
let proxy: IngestProxy | null = null;
afterEach(async () => {
  await pipeline?.close();
  pipeline = null;
  await proxy?.close();
  proxy = null;
});

interface Account {
  accountId: string;
  api: MessengerApi;
}

const send = (from: Account, to: Account) =>
  from.api.message.send.mutate({
    messageId: randomUUID(),
    recipient: { accountId: to.accountId },
    type: 1,
    content: Buffer.from("opaque").toString("base64"),
  });

/** `count` Indian numbers from a base (valid mobile numbers). */
async function registerMany(p: Pipeline, base: number, count: number): Promise<Account[]> {
  const out: Account[] = [];
  for (let i = 0; i < count; i += 25) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(25, count - i) }, (_, j) => p.register(`+9198${String(base + i + j).padStart(8, "0")}`)))));
  }
  return out;
}

async function acceptAll(accounts: Account[], share: boolean) {
  for (let i = 0; i < accounts.length; i += 25) {
    await Promise.all(accounts.slice(i, i + 25).map((a) => a.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: share })));
  }
}

/** Per account: field -> purposes, as Facebook holds it. */
async function heldByFacebook(p: Pipeline) {
  const rows = await p.facebook!.server.services.sql<{ whatsapp_account_id: string; field: string; purposes: string[] }[]>`
    select whatsapp_account_id, field, purposes from shared_data`;
  const held = new Map<string, Record<string, string[]>>();
  for (const row of rows) held.set(row.whatsapp_account_id, { ...held.get(row.whatsapp_account_id), [row.field]: row.purposes });
  return held;
}

const grantsChoice = (fields: Record<string, string[]> | undefined) =>
  Object.values(fields ?? {}).some((purposes) => purposes.includes("ads") || purposes.includes("product"));

describe("opt-outs racing message batches, end to end", () => {
  it(
    "after the pipeline drains, no opted-out account is held, linked or matched for ads or product",
    async () => {
      const p = (pipeline = await startPipeline({ regime: "optout-2016" }));
      const accounts = await registerMany(p, 10_000, 241);
      const recipient = accounts.shift()!;
      // Facebook knows every number: a held phone for `product` links the account.
      const fb = p.facebook!;
      await facebookAdmin(fb.url).profiles.upsert.mutate({
        profiles: accounts.map((_, i) => ({ id: 50_000 + i, name: `P${i}`, country: "IN", phoneNumber: `+9198${String(10_001 + i).padStart(8, "0")}` })),
      });
      await p.admin.admin.setClock.mutate({ at: new Date(ANNOUNCED.getTime() + 3600_000).toISOString() });
      await acceptAll([recipient, ...accounts], true);
      await p.admin.admin.advanceClock.mutate({ days: 1 });
      await p.messenger.server.services.share.shipper!.drained();
      expect((await fb.server.services.sql`select 1 from links`).length).toBe(accounts.length);

      // Half opt out while everyone sends (their day's first messages write usage snapshots).
      const optingOut = new Set(accounts.filter((_, i) => i % 2 === 0).map((a) => a.accountId));
      for (let i = 0; i < accounts.length; i += 60) {
        await Promise.all(
          accounts.slice(i, i + 60).flatMap((a) => [
            ...Array.from({ length: 5 }, () => send(a, recipient)),
            ...(optingOut.has(a.accountId) ? [a.api.settings.setShareAccountInfo.mutate({ shareWithFacebook: false })] : []),
          ]),
        );
      }
      await p.messenger.server.services.share.shipper!.drained(60_000);

      const held = await heldByFacebook(p);
      const leaked = [...optingOut].filter((id) => grantsChoice(held.get(id)));
      expect(leaked).toEqual([]);
      const links = await fb.server.services.sql<{ whatsapp_account_id: string }[]>`select whatsapp_account_id from links`;
      expect(links.filter((l) => optingOut.has(l.whatsapp_account_id))).toEqual([]);
      // The others still share for ads and product, and Facebook applied each account's newest snapshot.
      expect(accounts.filter((a) => !optingOut.has(a.accountId)).every((a) => grantsChoice(held.get(a.accountId)))).toBe(true);
      const newest = await p.messenger.server.services.sql<{ account_id: string; sequence: string }[]>`
        select account_id, max(sequence)::text as sequence from share_outbox group by account_id`;
      const watermarks = new Map(
        (await fb.server.services.sql<{ whatsapp_account_id: string; sequence: string }[]>`
          select whatsapp_account_id, sequence::text from ingest_watermarks`).map((w) => [w.whatsapp_account_id, w.sequence]),
      );
      for (const row of newest) expect(watermarks.get(row.account_id), row.account_id).toBe(row.sequence);

      // The privacy audit agrees from the two databases alone (check 7 compares every account's newest snapshot).
      const report = await runPrivacyAudit({ messengerUrl: p.messenger.databaseUrl, facebookUrl: fb.databaseUrl });
      expect(report.checks.filter((c) => c.verdict === "fail").map((c) => c.id), JSON.stringify(report.checks)).toEqual([]);
      expect(report.checks.find((c) => c.id === "newest-snapshot-held")!.examined).toBeGreaterThanOrEqual(accounts.length);
    },
    180_000,
  );
});

describe("the shipper after an outage", () => {
  it("ships promptly when Facebook returns, though its backoff had a minute to go, and probes rather than resends meanwhile", async () => {
    // random() = 1: the first failure waits the full minute (a backoff grown to its ceiling).
    const p = (pipeline = await startPipeline({
      regime: "optout-2016",
      facebookUp: false,
      shipper: { minBackoffMs: 60_000, maxBackoffMs: 60_000, probeIntervalMs: 100, random: () => 0.999 },
    }));
    const accounts = await registerMany(p, 20_000, 20);
    await p.admin.admin.setClock.mutate({ at: new Date(ANNOUNCED.getTime() + 3600_000).toISOString() });
    const shipper = p.messenger.server.services.share.shipper!;
    await acceptAll(accounts.slice(0, 10), true);
    await expect.poll(async () => (await shipper.status()).state, { timeout: 10_000 }).toBe("backing-off");
    // Events keep coming while Facebook is down: they wake probes, not blind resends.
    await acceptAll(accounts.slice(10), false);
    const down = await shipper.status();
    expect(down.retryInMs).toBeGreaterThan(30_000);
    expect(down.consecutiveFailures).toBe(1);

    await p.startFacebook();
    await shipper.drained(15_000); // well inside the minute the backoff had left
    const ingested = await p.facebook!.server.services.sql<{ n: number }[]>`select count(*)::int as n from ingested_events`;
    const [outbox] = await p.messenger.server.services.sql<{ n: number }[]>`select count(*)::int as n from share_outbox`;
    expect(ingested[0]!.n).toBe(outbox!.n);
  }, 60_000);
});

describe("lost ingest replies", () => {
  it("resends a batch whose reply was cut after Facebook committed it, and applies it once", async () => {
    const proxyPort = await freePort();
    let facebookPort = 0;
    proxy = await IngestProxy.start(proxyPort, () => facebookPort);
    const p = (pipeline = await startPipeline({ regime: "optout-2016", shipVia: proxyPort, facebookUp: false }));
    facebookPort = p.facebookPort;
    await p.startFacebook();
    const accounts = await registerMany(p, 30_000, 30);
    await p.admin.admin.setClock.mutate({ at: new Date(ANNOUNCED.getTime() + 3600_000).toISOString() });

    proxy.dropReplies = 3;
    await acceptAll(accounts, true);
    const shipper = p.messenger.server.services.share.shipper!;
    await shipper.drained(30_000);
    expect(proxy.dropped).toBe(3);
    expect((await shipper.status()).shipped).toBeGreaterThan(0);

    // Every event arrived exactly once (by event id), and Facebook holds each account's newest snapshot.
    const { sql } = p.messenger.server.services;
    const outbox = await sql<{ event_id: string }[]>`select event_id from share_outbox`;
    const ingested = await p.facebook!.server.services.sql<{ event_id: string }[]>`select event_id from ingested_events`;
    expect(new Set(ingested.map((r) => r.event_id))).toEqual(new Set(outbox.map((r) => r.event_id)));
    const held = await heldByFacebook(p);
    expect(accounts.every((a) => grantsChoice(held.get(a.accountId)))).toBe(true);

    // The same after opt-outs whose replies are lost too.
    proxy.dropReplies = 2;
    for (const a of accounts.slice(0, 10)) await a.api.settings.setShareAccountInfo.mutate({ shareWithFacebook: false });
    await shipper.drained(30_000);
    const after = await heldByFacebook(p);
    expect(accounts.slice(0, 10).filter((a) => grantsChoice(after.get(a.accountId)))).toEqual([]);
    expect(accounts.slice(10).every((a) => grantsChoice(after.get(a.accountId)))).toBe(true);
  }, 90_000);
});

describe("lost ingest replies of a batch narrowed at ship time", () => {
  it("a resent narrowed batch is a duplicate: Facebook applies it once and no purpose comes back", async () => {
    const proxyPort = await freePort();
    let facebookPort = 0;
    proxy = await IngestProxy.start(proxyPort, () => facebookPort);
    const p = (pipeline = await startPipeline({ regime: "historical-2016", shipVia: proxyPort, facebookUp: false }));
    facebookPort = p.facebookPort;
    await p.startFacebook();
    const germans: Account[] = [];
    for (let i = 0; i < 10; i++) germans.push(await p.register(`+49151${String(91_000_000 + i).padStart(8, "0")}`));
    const shipper = p.messenger.server.services.share.shipper!;
    // Paused: the snapshots written before the Hamburg order wait in the outbox.
    await shipper.stop();
    await p.admin.admin.setClock.mutate({ at: new Date(ANNOUNCED.getTime() + 3600_000).toISOString() });
    await acceptAll(germans, true);
    await p.admin.admin.setClock.mutate({ at: "2016-09-28T00:00:00Z" });

    const { sql } = p.messenger.server.services;
    const stale = await sql<{ event_id: string; sequence: string }[]>`
      select event_id, sequence::text from share_outbox where kind = 'consent' and payload->'fields' ? 'phoneNumber' order by id`;
    expect(stale).toHaveLength(germans.length);

    proxy.dropReplies = 2;
    await shipper.start();
    await shipper.drained(30_000);
    expect(proxy.dropped).toBe(2);

    const fb = p.facebook!.server.services.sql;
    // What left was narrowed to nothing, and the outbox records it with its original id and sequence.
    const outbox = await sql<{ event_id: string; account_id: string; kind: string; sequence: string; payload: { fields: object } }[]>`
      select event_id, account_id, kind, sequence::text, payload from share_outbox order by id`;
    expect(outbox.filter((e) => e.kind === "consent").map((e) => ({ event_id: e.event_id, sequence: e.sequence, fields: e.payload.fields }))).toEqual(
      stale.map((e) => ({ ...e, fields: {} })),
    );
    const ingested = await fb<{ event_id: string }[]>`select event_id from ingested_events`;
    expect(ingested).toHaveLength(outbox.length);
    expect(new Set(ingested.map((r) => r.event_id))).toEqual(new Set(outbox.map((r) => r.event_id)));
    expect(await fb`select 1 from shared_data`).toHaveLength(0);
    expect(await fb`select 1 from audit_log`).toHaveLength(0);

    // Resending the narrowed batch by hand once more changes nothing.
    const again = await facebookIngest(p.facebook!.url).ingest.batch.mutate({
      events: outbox.map((e) => ({
        eventId: e.event_id,
        sequence: Number(e.sequence),
        whatsappAccountId: e.account_id,
        kind: e.kind as "consent",
        occurredAt: "2016-08-25T01:00:00.000Z",
        fields: e.payload.fields,
      })),
    });
    expect(again).toEqual({ accepted: 0, duplicates: outbox.length });
    expect(await fb`select 1 from shared_data`).toHaveLength(0);
  }, 90_000);
});

describe("spam signals", () => {
  it("delivers every pending signal, more than a page of them, past one the messenger refuses", async () => {
    const p = (pipeline = await startPipeline({ regime: "optout-2016" }));
    const accounts = await registerMany(p, 40_000, 5);
    const fb = p.facebook!.server.services;
    const at = p.messenger.server.services.clock.now();
    // The first pending signal names an account the messenger does not know: refused for good, not a blocker.
    await fb.sql`insert into spam_signals (whatsapp_account_id, action, reason, at) values (${randomUUID()}, 'throttle', 'unknown', ${at})`;
    const targets = Array.from({ length: 250 }, (_, i) => accounts[i % accounts.length]!.accountId);
    await fb.sql`
      insert into spam_signals (whatsapp_account_id, action, reason, at)
      select id, 'throttle', 'test burst', ${at} from unnest(${fb.sql.array(targets)}::uuid[]) as t(id)`;
    fb.spam.notifier!.kick();
    const pending = async () =>
      (await fb.sql<{ n: number }[]>`select count(*)::int as n from spam_signals where delivered_at is null and refused_at is null`)[0]!.n;
    await expect.poll(pending, { timeout: 30_000 }).toBe(0);
    const [delivered] = await fb.sql<{ n: number }[]>`select count(*)::int as n from spam_signals where delivered_at is not null`;
    expect(delivered!.n).toBe(250);
    const [refused] = await fb.sql<{ refusal: string }[]>`select refusal from spam_signals where refused_at is not null`;
    expect(refused?.refusal).toMatch(/^NOT_FOUND/);
    const [recorded] = await p.messenger.server.services.sql<{ n: number }[]>`
      select count(*)::int as n from account_restrictions where source = 'facebook-spam-signal'`;
    expect(recorded!.n).toBe(250);
  }, 60_000);
});
