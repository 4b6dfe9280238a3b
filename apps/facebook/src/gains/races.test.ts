/**
 * Linking by name moves account data: these race it and break it. Real server,
 * real PostgreSQL, concurrent HTTP ingests.
 */
import { createHash, randomUUID } from "node:crypto";
import { createTRPCClient, httpLink } from "@trpc/client";
import type { Purpose, ShareEvent } from "@handshake/consent";
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { AppRouter } from "../root";
import { startTestFacebook, TEST_FACEBOOK_ADMIN_TOKEN, type TestFacebook } from "../testing";
import { shareEvent } from "../../test/share-events";

const SERVICE_TOKEN = "test-service-token-races-01234567";
const ALL: Purpose[] = ["ads", "product", "metrics", "security", "spam"];
const UNTICKED: Purpose[] = ["metrics", "security", "spam"];

let facebook: TestFacebook;
let sql: postgres.Sql;
const client = (headers: Record<string, string>) => createTRPCClient<AppRouter>({ links: [httpLink({ url: facebook.url, headers })] });
const admin = () => client({ "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN });
const service = () => client({ authorization: `Bearer ${SERVICE_TOKEN}` });

beforeAll(async () => {
  facebook = await startTestFacebook({ serviceToken: SERVICE_TOKEN, poolSize: 8 });
  sql = postgres(facebook.databaseUrl, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await facebook?.close();
});

const snapshot = (account: string, phone: string, purposes: Purpose[], sequence: number): ShareEvent =>
  shareEvent(
    account,
    purposes.length === 0
      ? {}
      : { phoneNumber: { value: phone, purposes }, country: { value: "IN", purposes: purposes.filter((p) => p !== "security") } },
    sequence,
  );

let nextId = 1;
/** A profile named `name` holding a stale number, and an uploader who saved each of `phones` as `name`. */
async function stalePerson(name: string, phones: string[]) {
  const id = nextId++;
  const book = nextId++;
  await admin().profiles.upsert.mutate({
    profiles: [
      { id, name, country: "IN", phoneNumber: `+9191999${String(id).padStart(5, "0")}` },
      { id: book, name: `Uploader ${book}`, country: "IN", phoneNumber: null, addressBook: phones.map((phone) => ({ phone, name })) },
    ],
  });
  return id;
}
const uuids = (ids: string[]) => `{${ids.join(",")}}`;
const phoneFor = (k: number) => `+9191000${String(k).padStart(5, "0")}`;

it("a grant racing an opt-out for one account ends unlinked, with the loss counted exactly when the grant had applied", async () => {
  const accounts: string[] = [];
  for (let k = 0; k < 16; k++) {
    const phone = phoneFor(k);
    await stalePerson(`Race Person ${k}`, [phone]);
    const account = randomUUID();
    accounts.push(account);
    await service().ingest.batch.mutate({ events: [snapshot(account, phone, UNTICKED, 1)] });
    const grant = () => service().ingest.batch.mutate({ events: [snapshot(account, phone, ALL, 2)] });
    const optOut = () => service().ingest.batch.mutate({ events: [snapshot(account, phone, UNTICKED, 3)] });
    await Promise.all(k % 2 === 0 ? [grant(), optOut()] : [optOut(), grant()]);
  }
  expect(await sql`select 1 from links where whatsapp_account_id = any(${uuids(accounts)}::uuid[])`).toHaveLength(0);
  const marks = await sql<{ sequence: string }[]>`select sequence from ingest_watermarks where whatsapp_account_id = any(${uuids(accounts)}::uuid[])`;
  expect(marks.map((m) => Number(m.sequence))).toEqual(accounts.map(() => 3));
  // Which grants applied before their opt-out: exactly those that were audited as a link use.
  const [linked] = await sql<{ n: number }[]>`
    select count(distinct whatsapp_account_id)::int as n from audit_log
    where feature = 'link' and whatsapp_account_id = any(${uuids(accounts)}::uuid[])`;
  const [lost] = await sql<{ n: number }[]>`select coalesce(sum(links), 0)::int as n from withdrawal_losses`;
  expect(lost!.n).toBe(linked!.n);
  expect(await sql`select 1 from shared_data where whatsapp_account_id = any(${uuids(accounts)}::uuid[]) and 'product' = any(purposes)`).toHaveLength(0);
});

it("two accounts naming the same profile at once: exactly one is linked", async () => {
  for (let k = 0; k < 12; k++) {
    const a = phoneFor(100 + 2 * k);
    const b = phoneFor(101 + 2 * k);
    const profile = await stalePerson(`Namesake ${k}`, [a, b]);
    const [first, second] = [randomUUID(), randomUUID()];
    await Promise.all([
      service().ingest.batch.mutate({ events: [snapshot(first, a, ALL, 1)] }),
      service().ingest.batch.mutate({ events: [snapshot(second, b, ALL, 1)] }),
    ]);
    const links = await sql`select whatsapp_account_id from links where profile_id = ${profile}`;
    expect(links).toHaveLength(1);
  }
});

it("a lost reply and a retried batch link once, audit once and count a withdrawal once", async () => {
  const phone = phoneFor(500);
  const profile = await stalePerson("Retry Person", [phone]);
  const account = randomUUID();
  const post = (events: ShareEvent[], signal?: AbortSignal) =>
    fetch(`${facebook.url}/ingest.batch`, {
      method: "POST",
      headers: { authorization: `Bearer ${SERVICE_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ events }),
      signal,
    });
  const grant = [snapshot(account, phone, ALL, 1)];
  // The shipper gives up waiting (the reply is lost), then sends the same batch again, twice.
  await post(grant, AbortSignal.timeout(1)).catch(() => undefined);
  for (let i = 0; i < 2; i++) expect((await post(grant)).status).toBe(200);
  expect(await sql`select profile_id::int as profile_id from links where whatsapp_account_id = ${account}`).toEqual([{ profile_id: profile }]);
  expect(await sql`select datum from audit_log where whatsapp_account_id = ${account} and feature = 'link' order by datum`).toEqual([
    { datum: "country" },
    { datum: "phoneNumber" },
  ]);
  const lost = async () => (await sql<{ n: number }[]>`select coalesce(sum(links), 0)::int as n from withdrawal_losses where linked_by = 'name'`)[0]!.n;
  const lostBefore = await lost();
  const optOut = [snapshot(account, phone, UNTICKED, 2)];
  await post(optOut, AbortSignal.timeout(1)).catch(() => undefined);
  for (let i = 0; i < 2; i++) expect((await post(optOut)).status).toBe(200);
  expect(await sql`select 1 from links where whatsapp_account_id = ${account}`).toHaveLength(0);
  expect(await lost()).toBe(lostBefore + 1);
});

it("a failure after the link was written leaves nothing behind, and the retried batch applies", async () => {
  const phone = phoneFor(600);
  const profile = await stalePerson("Fault Person", [phone]);
  const account = randomUUID();
  // Break the audit write for this account only: the link's use cannot be recorded.
  await sql.unsafe(`
    create function fail_audit() returns trigger language plpgsql as $$
    begin if new.whatsapp_account_id = '${account}' then raise exception 'audit unavailable'; end if; return new; end $$;
    create trigger fail_audit before insert on audit_log for each row execute function fail_audit();`);
  const batch = { events: [snapshot(account, phone, ALL, 1)] };
  await expect(service().ingest.batch.mutate(batch)).rejects.toThrow();
  expect(await sql`select 1 from links where whatsapp_account_id = ${account}`).toHaveLength(0);
  expect(await sql`select 1 from ingest_watermarks where whatsapp_account_id = ${account}`).toHaveLength(0);
  expect(await sql`select 1 from ingested_events where whatsapp_account_id = ${account}`).toHaveLength(0);
  await sql.unsafe(`drop trigger fail_audit on audit_log; drop function fail_audit();`);
  await expect(service().ingest.batch.mutate(batch)).resolves.toMatchObject({ accepted: 1 });
  expect(await sql`select profile_id::int as profile_id, linked_by from links where whatsapp_account_id = ${account}`).toEqual([
    { profile_id: profile, linked_by: "name" },
  ]);
});

it("an audience upload racing an opt-out's ingest ends with no WhatsApp membership for the account", async () => {
  const phone = phoneFor(700);
  const profile = await stalePerson("Audience Race Person", [phone]);
  const account = randomUUID();
  await service().ingest.batch.mutate({ events: [snapshot(account, phone, ALL, 1)] });
  expect(await sql`select profile_id::int as profile_id from links where whatsapp_account_id = ${account}`).toEqual([{ profile_id: profile }]);
  const { credential } = await admin().advertisers.create.mutate({ name: "Race advertiser" });
  const advertiser = client({ authorization: `Bearer ${credential}` });
  const { audienceId } = await advertiser.audiences.create.mutate({ name: "race" });

  // Hold the opt-out's ingest open after it deleted the account's ads data and memberships, before it commits:
  // a statement trigger on that delete (ingest's, not the re-match's) waits for an advisory lock this test holds.
  const PAUSE = 7_700_700;
  await sql.unsafe(`
    create function pause_withdrawal() returns trigger language plpgsql as $$
    begin
      if current_query() like 'delete from audience_members where whatsapp_account_id%' then perform pg_advisory_xact_lock_shared(${PAUSE}); end if;
      return null;
    end $$;
    create trigger pause_withdrawal after delete on audience_members for each statement execute function pause_withdrawal();`);
  const holder = await sql.reserve();
  try {
    await holder`select pg_advisory_lock(${PAUSE})`;
    const optOut = service().ingest.batch.mutate({ events: [snapshot(account, phone, UNTICKED, 2)] });
    const waiting = async (event: string) =>
      (await sql`select 1 from pg_stat_activity where wait_event_type = 'Lock' and wait_event = ${event}`).length > 0;
    await expect.poll(() => waiting("advisory"), { timeout: 10_000, interval: 20 }).toBe(true);
    // The upload either completes (matching from the ads data the uncommitted opt-out has deleted)
    // or waits for the opt-out to commit; either way, let the opt-out go only then.
    let uploaded = false;
    const upload = advertiser.audiences.upload
      .mutate({ audienceId, hashes: [createHash("sha256").update(phone.slice(1)).digest("hex")] })
      .finally(() => (uploaded = true));
    await expect
      .poll(async () => uploaded || (await waiting("transactionid")) || (await waiting("tuple")), { timeout: 10_000, interval: 20 })
      .toBe(true);
    await holder`select pg_advisory_unlock(${PAUSE})`;
    await Promise.all([optOut, upload]);
  } finally {
    holder.release();
    await sql.unsafe(`drop trigger pause_withdrawal on audience_members; drop function pause_withdrawal();`);
  }
  expect(await sql`select 1 from shared_data where whatsapp_account_id = ${account} and 'ads' = any(purposes)`).toHaveLength(0);
  expect(await sql`select profile_id from audience_members where audience_id = ${audienceId} and whatsapp_account_id = ${account}`).toEqual([]);
});
