import { randomUUID } from "node:crypto";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { estimateAudienceSize, listDigest } from "../audiences/estimate";
import { audienceRowForPhone, hashNormalisedPhone } from "../audiences/normalise";
import type { AppRouter } from "../root";
import { startTestFacebook, TEST_FACEBOOK_ADMIN_TOKEN, type TestFacebook } from "../testing";
import { shareEvent } from "../../test/share-events";

const SERVICE_TOKEN = "test-service-token-audiences-0123";
const ESTIMATE_KEY = Buffer.alloc(32, 3);
// Far above any count or size a response could carry, so the log check below can tell them apart.
const FIRST_PROFILE_ID = 7_100_000_000;
const PROFILES = 1_500;

const phoneOf = (i: number) => `+91${9_000_000_000 + i}`;
const rowOf = (i: number) => hashNormalisedPhone(phoneOf(i).slice(1));
/** Valid-looking numbers no profile holds. */
const strangerRow = (i: number) => hashNormalisedPhone(`91${8_000_000_000 + i}`);

let facebook: TestFacebook;
let sql: postgres.Sql;
let admin: ReturnType<typeof clientFor>;
let service: ReturnType<typeof clientFor>;
let advertiser: ReturnType<typeof clientFor>;
let rival: ReturnType<typeof clientFor>;

function clientFor(url: string, headers: Record<string, string>) {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url, headers })] });
}

async function newAdvertiser(name: string) {
  const { credential } = await admin.advertisers.create.mutate({ name });
  return clientFor(facebook.url, { authorization: `Bearer ${credential}` });
}

async function membersOf(audienceId: string) {
  return sql<{ profile_id: string; via_whatsapp: boolean; whatsapp_account_id: string | null }[]>`
    select profile_id, via_whatsapp, whatsapp_account_id from audience_members where audience_id = ${audienceId} order by profile_id`;
}

async function audienceWith(rows: string[], name = "list") {
  const { audienceId } = await advertiser.audiences.create.mutate({ name });
  for (let i = 0; i < rows.length; i += 10_000) await advertiser.audiences.upload.mutate({ audienceId, hashes: rows.slice(i, i + 10_000) });
  return audienceId;
}

async function errorOf(promise: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) return error as TRPCClientError<AppRouter>;
    throw error;
  }
  throw new Error("expected the call to fail");
}

beforeAll(async () => {
  facebook = await startTestFacebook({
    serviceToken: SERVICE_TOKEN,
    estimateKey: ESTIMATE_KEY,
    audienceBudget: { audienceCreate: { capacity: 1_000, refillPerSecond: 1, description: "test" } },
  });
  sql = postgres(facebook.databaseUrl, { max: 2, onnotice: () => {} });
  admin = clientFor(facebook.url, { "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN });
  service = clientFor(facebook.url, { authorization: `Bearer ${SERVICE_TOKEN}` });
  for (let start = 0; start < PROFILES; start += 1_000) {
    const ids = Array.from({ length: Math.min(1_000, PROFILES - start) }, (_, k) => start + k);
    await admin.profiles.upsert.mutate({
      profiles: ids.map((i) => ({ id: FIRST_PROFILE_ID + i, name: `Person ${i}`, country: "IN", phoneNumber: phoneOf(i) })),
    });
  }
  advertiser = await newAdvertiser("Acme Sweets");
  rival = await newAdvertiser("Rival Sweets");
});

afterAll(async () => {
  await sql?.end();
  await facebook?.close();
});

describe("Custom Audiences", () => {
  it("sizes known lists: the range is what the estimator gives for the true match count", async () => {
    const cases = [
      { matching: 150, strangers: 50 },
      { matching: 1_200, strangers: 300 },
    ];
    for (const { matching, strangers } of cases) {
      const rows = [...Array.from({ length: matching }, (_, i) => rowOf(i)), ...Array.from({ length: strangers }, (_, i) => strangerRow(i))];
      const audienceId = await audienceWith(rows);
      expect(await membersOf(audienceId)).toHaveLength(matching);
      const view = await advertiser.audiences.get.query({ audienceId });
      expect(view).toMatchObject({ audienceId, uploadedRows: matching + strangers });
      const expected = estimateAudienceSize(matching, listDigest(rows.map((r) => Buffer.from(r, "hex"))), ESTIMATE_KEY, 100);
      expect(view.size).toEqual(expected);
    }
    // 1,200 members: noise at most ±120, so the range is 1,000–2,000 whatever the key.
    const big = await audienceWith(Array.from({ length: 1_200 }, (_, i) => rowOf(i)));
    expect((await advertiser.audiences.get.query({ audienceId: big })).size).toEqual({ tooSmall: false, lower: 1_000, upper: 2_000, label: "1,000–2,000" });
  });

  it("matches messy advertiser inputs once normalised (spaces, dashes, parentheses, trunk 0, 00, '+')", async () => {
    const messy = [
      "+91 90000 00001",
      "+91-9000-000-002",
      "(+91) 9000000003",
      "0091 90000 00004",
      "090000 00005",
      "9000-000-006",
      " 0 9000 000 007 ",
    ];
    const rows = messy.map((raw) => audienceRowForPhone(raw, "IN"));
    const audienceId = await audienceWith(rows);
    const members = await membersOf(audienceId);
    expect(members.map((m) => Number(m.profile_id) - FIRST_PROFILE_ID)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect((await advertiser.audiences.get.query({ audienceId })).size).toEqual({ tooSmall: true });
  });

  it("accepts uppercase hex, keeps a row once however often it is sent, and counts rows received", async () => {
    const { audienceId } = await advertiser.audiences.create.mutate({ name: "dupes" });
    await advertiser.audiences.upload.mutate({ audienceId, hashes: [rowOf(1).toUpperCase(), rowOf(1), rowOf(2)] });
    await advertiser.audiences.upload.mutate({ audienceId, hashes: [rowOf(2)] });
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from audience_hashes where audience_id = ${audienceId}`;
    const n = row!.n;
    expect(n).toBe(2);
    expect(await membersOf(audienceId)).toHaveLength(2);
    expect((await advertiser.audiences.get.query({ audienceId })).uploadedRows).toBe(4);
  });

  it("says only 'too small' under the minimum, and at it (the cut-off is noisy)", async () => {
    for (const matching of [0, 1, 99, 100]) {
      const rows = [...Array.from({ length: matching }, (_, i) => rowOf(i)), strangerRow(matching)];
      const audienceId = await audienceWith(rows);
      expect(await membersOf(audienceId)).toHaveLength(matching);
      expect((await advertiser.audiences.get.query({ audienceId })).size).toEqual({ tooSmall: true });
    }
  });

  it("refuses 10,001 hashes in one call with a clear error, and stores nothing", async () => {
    const { audienceId } = await advertiser.audiences.create.mutate({ name: "too many" });
    const rows = Array.from({ length: 10_001 }, (_, i) => strangerRow(i));
    const error = await errorOf(advertiser.audiences.upload.mutate({ audienceId, hashes: rows }));
    expect(error.data?.code).toBe("BAD_REQUEST");
    expect(error.message).toContain("at most 10,000 hashes per upload call (got 10,001)");
    await advertiser.audiences.upload.mutate({ audienceId, hashes: rows.slice(0, 10_000) });
    expect((await advertiser.audiences.get.query({ audienceId })).uploadedRows).toBe(10_000);
  });

  it("refuses rows that are not SHA-256 hex, naming the row", async () => {
    const { audienceId } = await advertiser.audiences.create.mutate({ name: "bad" });
    for (const [bad, index] of [
      ["zz".repeat(32), 3],
      ["+919000000001", 1],
      [rowOf(1).slice(1), 2],
    ] as const) {
      const hashes = [rowOf(0), rowOf(1), rowOf(2), rowOf(3)];
      hashes[index] = bad;
      const error = await errorOf(advertiser.audiences.upload.mutate({ audienceId, hashes }));
      expect(error.data?.code).toBe("BAD_REQUEST");
      expect(error.message).toContain(`hashes.${index}: must be the SHA-256 hex`);
      expect(error.message).not.toContain(bad);
    }
    expect((await advertiser.audiences.get.query({ audienceId })).uploadedRows).toBe(0);
  });

  it("does not let another advertiser read, list or upload to an audience (NOT_FOUND, as for none)", async () => {
    const audienceId = await audienceWith(Array.from({ length: 300 }, (_, i) => rowOf(i)), "mine");
    for (const attempt of [
      () => rival.audiences.get.query({ audienceId }),
      () => rival.audiences.upload.mutate({ audienceId, hashes: [rowOf(400)] }),
      () => rival.audiences.get.query({ audienceId: randomUUID() }),
    ]) {
      const error = await errorOf(attempt());
      expect(error.data?.code).toBe("NOT_FOUND");
      expect(error.message).toBe("no such audience");
    }
    expect((await rival.audiences.list.query()).audiences).toEqual([]);
    expect(await membersOf(audienceId)).toHaveLength(300);
    expect((await advertiser.audiences.list.query()).audiences.map((a) => a.audienceId)).toContain(audienceId);
  });

  it("requires an advertiser credential", async () => {
    const stranger = clientFor(facebook.url, { authorization: `Bearer adv.${randomUUID()}.${"A".repeat(43)}` });
    expect((await errorOf(stranger.audiences.list.query())).data?.code).toBe("UNAUTHORIZED");
  });

  it("matches a WhatsApp-shared number only while `ads` is among its purposes", async () => {
    // Profile 1,400 holds the number; its WhatsApp account shares it and gets linked;
    // then Facebook's own copy goes stale, so only WhatsApp can match the number.
    const profileId = FIRST_PROFILE_ID + 1_400;
    const phone = phoneOf(1_400);
    const account = randomUUID();
    const share = (sequence: number, purposes: string[]) =>
      service.ingest.batch.mutate({
        events: [shareEvent(account, { phoneNumber: { value: phone, purposes: purposes as ["ads"] } }, sequence)],
      });
    await share(1, ["product", "spam"]);
    await admin.profiles.upsert.mutate({ profiles: [{ id: profileId, name: "Person 1400", country: "IN", phoneNumber: "+919999999999" }] });
    const [link] = await sql`select profile_id from links where whatsapp_account_id = ${account}`;
    expect(Number(link!.profile_id)).toBe(profileId);

    const withoutAds = await audienceWith([rowOf(1_400)]);
    expect(await membersOf(withoutAds)).toEqual([]);

    await share(2, ["ads", "product", "spam"]);
    const withAds = await audienceWith([rowOf(1_400)]);
    expect(await membersOf(withAds)).toEqual([{ profile_id: String(profileId), via_whatsapp: true, whatsapp_account_id: account }]);
    const audits = await sql`select datum, purpose, feature from audit_log where whatsapp_account_id = ${account} and feature = 'audience-match'`;
    expect(audits).toEqual([{ datum: "phoneNumber", purpose: "ads", feature: "audience-match" }]);

    await share(3, ["product", "spam"]);
    expect(await membersOf(withAds)).toEqual([]);
    await advertiser.audiences.upload.mutate({ audienceId: withAds, hashes: [strangerRow(1)] });
    expect(await membersOf(withAds)).toEqual([]);
    expect(await sql`select 1 from audit_log where whatsapp_account_id = ${account} and feature = 'audience-match'`).toHaveLength(1);
  });

  it("prefers Facebook's own number: WhatsApp data is not used when the profile matches by itself", async () => {
    const account = randomUUID();
    await service.ingest.batch.mutate({
      events: [shareEvent(account, { phoneNumber: { value: phoneOf(1_401), purposes: ["ads", "product"] } })],
    });
    const audienceId = await audienceWith([rowOf(1_401)]);
    expect(await membersOf(audienceId)).toEqual([{ profile_id: String(FIRST_PROFILE_ID + 1_401), via_whatsapp: false, whatsapp_account_id: null }]);
    expect(await sql`select 1 from audit_log where whatsapp_account_id = ${account} and feature = 'audience-match'`).toHaveLength(0);
  });

  // Last: reads what every test above sent to advertisers.
  it("never tells an advertiser a phone number, a hash or a profile id (advertiser_api_log)", async () => {
    const log = await sql<{ path: string; response: unknown }[]>`select path, response from advertiser_api_log order by id`;
    expect(log.length).toBeGreaterThan(40);
    expect(new Set(log.map((l) => l.path))).toEqual(new Set(["audiences.create", "audiences.upload", "audiences.get", "audiences.list"]));
    for (const { response } of log) {
      const text = JSON.stringify(response).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>");
      expect(text).not.toMatch(/[0-9a-f]{64}/i);
      expect(text).not.toMatch(/\+?\d{8,}/);
      expect(text).not.toMatch(/profile/i);
      expect(text).not.toContain(String(FIRST_PROFILE_ID).slice(0, 4));
    }
  });
});
