/**
 * The dashboard's Facebook views through a real server: admin only; the overview
 * counts what was ingested, linked and audited; the advertiser view is exactly
 * what that advertiser's own `audiences.list` answers — a size range, no members.
 */
import { randomUUID } from "node:crypto";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashNormalisedPhone } from "../audiences/normalise";
import type { AppRouter } from "../root";
import { startTestFacebook, TEST_FACEBOOK_ADMIN_TOKEN, type TestFacebook } from "../testing";
import { shareEvent } from "../../test/share-events";

const SERVICE_TOKEN = "test-service-token-dashboard-0123";
const FIRST_PROFILE_ID = 5_000_000;
const phoneOf = (i: number) => `+91${9_100_000_000 + i}`;

let facebook: TestFacebook;
let admin: ReturnType<typeof clientFor>;
let service: ReturnType<typeof clientFor>;

function clientFor(url: string, headers: Record<string, string>) {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url, headers })] });
}

beforeAll(async () => {
  facebook = await startTestFacebook({ serviceToken: SERVICE_TOKEN, estimateKey: Buffer.alloc(32, 9) });
  admin = clientFor(facebook.url, { "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN });
  service = clientFor(facebook.url, { authorization: `Bearer ${SERVICE_TOKEN}` });
  await admin.profiles.upsert.mutate({
    profiles: Array.from({ length: 300 }, (_, i) => ({ id: FIRST_PROFILE_ID + i, name: `Person ${i}`, country: "IN", phoneNumber: phoneOf(i) })),
  });
});
afterAll(async () => {
  await facebook?.close();
});

describe("dashboard (Facebook side)", () => {
  it("refuses without the admin token", async () => {
    const anonymous = clientFor(facebook.url, {});
    const error = await anonymous.dashboard.overview.query().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<AppRouter>).data?.code).toBe("UNAUTHORIZED");
    const view = await anonymous.dashboard.advertiserView.query({}).catch((e: unknown) => e);
    expect((view as TRPCClientError<AppRouter>).data?.code).toBe("UNAUTHORIZED");
  });

  it("counts shared rows per field and purpose, links and audited uses", async () => {
    const before = await admin.dashboard.overview.query();
    expect(before.sharedData.rows).toBe(0);
    expect(before.profiles).toBe(300);
    const account = randomUUID();
    await service.ingest.batch.mutate({
      events: [
        shareEvent(account, {
          phoneNumber: { value: phoneOf(7), purposes: ["ads", "product", "spam"] },
          os: { value: "android", purposes: ["metrics"] },
        }),
      ],
    });
    const after = await admin.dashboard.overview.query();
    expect(after.sharedData).toEqual({
      rows: 2,
      accounts: 1,
      byField: [
        { field: "os", rows: 1, forAds: 0, forProduct: 0 },
        { field: "phoneNumber", rows: 1, forAds: 1, forProduct: 1 },
      ],
    });
    expect(after.ingestedEvents).toBe(1);
    // The shared verified number links to the profile holding it, and that use is audited.
    expect(after.links).toBe(1);
    expect(after.audit.rows).toBe(after.audit.byUse.reduce((sum, u) => sum + u.rows, 0));
  });

  it("shows an advertiser's audiences exactly as its own audiences.list does", async () => {
    const empty = await admin.dashboard.advertiserView.query({});
    expect(empty).toEqual({ advertisers: [], selected: null });

    const { advertiserId, credential } = await admin.advertisers.create.mutate({ name: "Acme Sweets" });
    await admin.advertisers.create.mutate({ name: "Rival Sweets" });
    const advertiser = clientFor(facebook.url, { authorization: `Bearer ${credential}` });
    const big = await advertiser.audiences.create.mutate({ name: "Loyal customers" });
    await advertiser.audiences.upload.mutate({
      audienceId: big.audienceId,
      hashes: Array.from({ length: 250 }, (_, i) => hashNormalisedPhone(phoneOf(i).slice(1))),
    });
    const small = await advertiser.audiences.create.mutate({ name: "One person" });
    await advertiser.audiences.upload.mutate({ audienceId: small.audienceId, hashes: [hashNormalisedPhone(phoneOf(1).slice(1))] });

    const view = await admin.dashboard.advertiserView.query({ advertiserId });
    const own = await advertiser.audiences.list.query();
    expect(view.selected).toEqual({ advertiserId, name: "Acme Sweets", audiences: own.audiences });
    expect(view.advertisers.map((a) => [a.name, a.audiences])).toEqual([
      ["Acme Sweets", 2],
      ["Rival Sweets", 0],
    ]);
    const [loyal, one] = view.selected!.audiences;
    expect(loyal!.size).toMatchObject({ tooSmall: false });
    expect(one!.size).toEqual({ tooSmall: true });
    // Nothing in it identifies a member: no phone numbers, no hashes, no profile ids.
    const text = JSON.stringify(view);
    expect(text).not.toContain(phoneOf(1).slice(3));
    expect(text).not.toContain(hashNormalisedPhone(phoneOf(1).slice(1)));
    expect(text).not.toContain(String(FIRST_PROFILE_ID + 1));
  });
});
