import { randomUUID } from "node:crypto";
import { createTRPCClient, httpLink } from "@trpc/client";
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hashNormalisedPhone } from "../audiences/normalise";
import type { AppRouter } from "../root";
import { startTestFacebook, TEST_FACEBOOK_ADMIN_TOKEN, type TestFacebook } from "../testing";
import { shareEvent } from "../../test/share-events";

const SERVICE_TOKEN = "test-service-token-ads-0123456789";
const phoneOf = (i: number) => `+91${9_100_000_000 + i}`;
const rowOf = (i: number) => hashNormalisedPhone(phoneOf(i).slice(1));

let facebook: TestFacebook;
let sql: postgres.Sql;
const client = (headers: Record<string, string>) => createTRPCClient<AppRouter>({ links: [httpLink({ url: facebook.url, headers })] });

beforeAll(async () => {
  facebook = await startTestFacebook({ serviceToken: SERVICE_TOKEN });
  sql = postgres(facebook.databaseUrl, { max: 2, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
  await facebook?.close();
});

it("serves ads from audiences a profile is in, re-checking a WhatsApp number's `ads` purpose at serve time; advertisers see counts only", async () => {
  const admin = client({ "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN });
  const service = client({ authorization: `Bearer ${SERVICE_TOKEN}` });
  await admin.profiles.upsert.mutate({
    profiles: Array.from({ length: 150 }, (_, i) => ({ id: i + 1, name: `Person ${i}`, country: "IN", phoneNumber: phoneOf(i) })),
  });
  // Profile 150: its number reaches Facebook only through WhatsApp (its own is stale).
  const account = randomUUID();
  await service.ingest.batch.mutate({
    events: [shareEvent(account, { phoneNumber: { value: phoneOf(149), purposes: ["ads", "product"] } })],
  });
  await admin.profiles.upsert.mutate({ profiles: [{ id: 150, name: "Person 149", country: "IN", phoneNumber: "+919999999990" }] });

  const { credential } = await admin.advertisers.create.mutate({ name: "Acme" });
  const advertiser = client({ authorization: `Bearer ${credential}` });
  const { audienceId: big } = await advertiser.audiences.create.mutate({ name: "customers" });
  await advertiser.audiences.upload.mutate({ audienceId: big, hashes: Array.from({ length: 150 }, (_, i) => rowOf(i)) });
  const { audienceId: tiny } = await advertiser.audiences.create.mutate({ name: "one person" });
  await advertiser.audiences.upload.mutate({ audienceId: tiny, hashes: [rowOf(0)] });

  const own = await admin.ads.serve.mutate({ profileId: 1 });
  expect(own.served).toEqual({ audienceId: big, audienceName: "customers", advertiserName: "Acme", viaWhatsapp: false });

  const viaWhatsapp = await admin.ads.serve.mutate({ profileId: 150 });
  expect(viaWhatsapp.served).toMatchObject({ audienceId: big, viaWhatsapp: true });
  expect(await sql`select datum, purpose, feature from audit_log where whatsapp_account_id = ${account} and feature = 'ad'`).toEqual([
    { datum: "phoneNumber", purpose: "ads", feature: "ad" },
  ]);

  // The purposes change under a membership (before any rematch or clean-up): no ad, no use.
  await sql`update shared_data set purposes = '{product}' where whatsapp_account_id = ${account}`;
  expect((await admin.ads.serve.mutate({ profileId: 150 })).served).toBeNull();
  expect(await sql`select 1 from audit_log where whatsapp_account_id = ${account} and feature = 'ad'`).toHaveLength(1);

  // Not in any audience big enough to be served.
  expect((await admin.ads.serve.mutate({ profileId: 9_999 })).served).toBeNull();

  expect(await advertiser.ads.impressions.query()).toEqual({
    audiences: [
      { audienceId: big, name: "customers", impressionCount: 2 },
      { audienceId: tiny, name: "one person", impressionCount: 0 },
    ],
  });
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from ad_impressions`;
  const n = row!.n;
  expect(n).toBe(2);
});
