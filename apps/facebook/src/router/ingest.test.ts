/**
 * The ingest and the operator procedures answer bad input with a clear error,
 * store nothing of a refused batch, and keep serving. Real server, real HTTP.
 */
import { randomUUID } from "node:crypto";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppRouter } from "../root";
import { startTestFacebook, TEST_FACEBOOK_ADMIN_TOKEN, type TestFacebook } from "../testing";
import { shareEvent } from "../../test/share-events";

const SERVICE_TOKEN = "test-service-token-ingest-0123456";
let facebook: TestFacebook;
const client = (headers: Record<string, string> = {}) =>
  createTRPCClient<AppRouter>({ links: [httpLink({ url: facebook.url, headers })] });

beforeAll(async () => {
  facebook = await startTestFacebook({ serviceToken: SERVICE_TOKEN });
});
afterAll(async () => {
  await facebook?.close();
});

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) return { code: error.data?.code as string, message: error.message };
    throw error;
  }
  throw new Error("expected a refusal");
}

const held = async (account: string) =>
  (await facebook.server.services.sql<{ field: string; purposes: string[] }[]>`
    select field, purposes from shared_data where whatsapp_account_id = ${account} order by field`).map((r) => [r.field, r.purposes]);
const phone = { phoneNumber: { value: "+919800000123", purposes: ["ads", "spam"] as ("ads" | "spam")[] } };

describe("ingest.batch", () => {
  it("refuses callers without the service credential", async () => {
    const batch = { events: [shareEvent(randomUUID(), phone)] };
    expect((await refusal(client().ingest.batch.mutate(batch))).code).toBe("UNAUTHORIZED");
    expect((await refusal(client({ authorization: "Bearer wrong-token-0123456789" }).ingest.batch.mutate(batch))).code).toBe(
      "UNAUTHORIZED",
    );
    expect((await refusal(client({ "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN }).ingest.batch.mutate(batch))).code).toBe(
      "UNAUTHORIZED",
    );
    expect(await facebook.server.services.sql`select 1 from ingested_events`).toHaveLength(0);
  });

  it("refuses a whole batch when one event carries what may not cross, and stores none of it", async () => {
    const service = client({ authorization: `Bearer ${SERVICE_TOKEN}` });
    const good = shareEvent(randomUUID(), phone);
    const withContent = { ...shareEvent(randomUUID(), phone), fields: { ...phone, content: { value: "hi", purposes: ["ads"] } } };
    const wrongPurpose = shareEvent(randomUUID(), { osVersion: { value: "6.0.1", purposes: ["ads" as "metrics"] } });
    for (const bad of [withContent, wrongPurpose]) {
      const error = await refusal(service.ingest.batch.mutate({ events: [good, bad as never] }));
      expect(error.code).toBe("BAD_REQUEST");
      expect(error.message).toMatch(/events\.1/);
    }
    expect(await held(good.whatsappAccountId)).toEqual([]);
    expect((await refusal(service.ingest.batch.mutate({ events: [] }))).code).toBe("BAD_REQUEST");
    const tooMany = Array.from({ length: 501 }, () => shareEvent(randomUUID(), phone));
    expect((await refusal(service.ingest.batch.mutate({ events: tooMany }))).message).toMatch(/500/);
    expect((await refusal(service.ingest.batch.mutate({ events: [{ ...good, eventId: "42" }] }))).message).toMatch(/eventId/);
  });

  it("refuses an oversized body and keeps serving", async () => {
    const response = await fetch(`${facebook.url}/ingest.batch`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${SERVICE_TOKEN}` },
      body: JSON.stringify({ events: [], padding: "x".repeat(3 * 1024 * 1024) }),
    });
    expect(response.status).toBe(413);
    const service = client({ authorization: `Bearer ${SERVICE_TOKEN}` });
    await expect(service.ingest.batch.mutate({ events: [shareEvent(randomUUID(), phone)] })).resolves.toMatchObject({ accepted: 1 });
  });

  it("applies a batch once, and never lets an older snapshot overwrite a newer one", async () => {
    const service = client({ authorization: `Bearer ${SERVICE_TOKEN}` });
    const account = randomUUID();
    const newer = shareEvent(account, { phoneNumber: { value: "+919800000124", purposes: ["spam"] } }, 2);
    const older = shareEvent(account, phone, 1);
    expect(await service.ingest.batch.mutate({ events: [newer] })).toEqual({ accepted: 1, duplicates: 0 });
    expect(await service.ingest.batch.mutate({ events: [newer] })).toEqual({ accepted: 0, duplicates: 1 });
    await service.ingest.batch.mutate({ events: [older] });
    expect(await held(account)).toEqual([["phoneNumber", ["spam"]]]);
  });

  it("keeps an account's watermark through a withdrawal: an older event granting ads arriving after it changes nothing", async () => {
    const service = client({ authorization: `Bearer ${SERVICE_TOKEN}` });
    const admin = client({ "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN });
    const account = randomUUID();
    const number = "+919800000125";
    await admin.profiles.upsert.mutate({ profiles: [{ id: 9_125, name: "Asha", country: "IN", phoneNumber: number }] });
    const granting = (sequence: number) =>
      shareEvent(account, { phoneNumber: { value: number, purposes: ["ads", "product", "spam"] } }, sequence);
    await service.ingest.batch.mutate({ events: [granting(1)] });
    const linked = () => facebook.server.services.sql`select 1 from links where whatsapp_account_id = ${account}`;
    expect(await linked()).toHaveLength(1);

    // Sequence 3 withdraws everything (e.g. a regulator's ban): shared_data for the account is empty.
    await service.ingest.batch.mutate({ events: [shareEvent(account, {}, 3)] });
    expect(await held(account)).toEqual([]);
    expect(await linked()).toHaveLength(0);
    // Sequence 2 (granting ads and product) was delayed and arrives last, alone and in a batch with a duplicate.
    const late = granting(2);
    expect(await service.ingest.batch.mutate({ events: [late] })).toEqual({ accepted: 1, duplicates: 0 });
    expect(await service.ingest.batch.mutate({ events: [late, granting(2)] })).toEqual({ accepted: 1, duplicates: 1 });
    expect(await held(account)).toEqual([]);
    expect(await linked()).toHaveLength(0);
    const [watermark] = await facebook.server.services.sql<{ sequence: number }[]>`
      select sequence::int from ingest_watermarks where whatsapp_account_id = ${account}`;
    expect(watermark?.sequence).toBe(3);

    // A newer snapshot still applies.
    await service.ingest.batch.mutate({ events: [shareEvent(account, { phoneNumber: { value: number, purposes: ["spam"] } }, 4)] });
    expect(await held(account)).toEqual([["phoneNumber", ["spam"]]]);
  });

  it("two ingests racing for one account leave the higher sequence applied, whatever order they commit in", async () => {
    const service = client({ authorization: `Bearer ${SERVICE_TOKEN}` });
    const accounts = Array.from({ length: 50 }, () => randomUUID());
    const snapshot = (account: string, sequence: number, purposes: ("ads" | "spam")[]) =>
      shareEvent(account, { phoneNumber: { value: "+919800000126", purposes } }, sequence);
    // Each batch holds every account; batch k carries sequence k. Sent all at once.
    const batches = [1, 2, 3, 4].map((sequence) => accounts.map((a) => snapshot(a, sequence, sequence === 4 ? ["spam"] : ["ads", "spam"])));
    await Promise.all(batches.reverse().map((events) => service.ingest.batch.mutate({ events })));
    const rows = await facebook.server.services.sql<{ whatsapp_account_id: string; purposes: string[]; sequence: number }[]>`
      select whatsapp_account_id, purposes, sequence::int from shared_data
      where whatsapp_account_id = any(${facebook.server.services.sql.array(accounts)}::uuid[])`;
    expect(rows).toHaveLength(accounts.length);
    for (const row of rows) expect(row).toMatchObject({ purposes: ["spam"], sequence: 4 });
  });
});

describe("operator procedures", () => {
  it("refuse callers without the admin token, and malformed input", async () => {
    const anonymous = client();
    const withService = client({ authorization: `Bearer ${SERVICE_TOKEN}` });
    for (const api of [anonymous, withService]) {
      expect((await refusal(api.profiles.suggestions.query({ profileId: 1 }))).code).toBe("UNAUTHORIZED");
      expect((await refusal(api.accounts.view.query({ whatsappAccountId: randomUUID() }))).code).toBe("UNAUTHORIZED");
      expect(
        (await refusal(api.profiles.upsert.mutate({ profiles: [{ id: 1, name: "A", country: "IN", phoneNumber: null }] }))).code,
      ).toBe("UNAUTHORIZED");
    }
    const admin = client({ "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN });
    const notE164 = await refusal(
      admin.profiles.upsert.mutate({ profiles: [{ id: 1, name: "A", country: "IN", phoneNumber: "98765 43210" }] }),
    );
    expect(notE164).toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/E\.164/) });
    expect((await refusal(admin.accounts.view.query({ whatsappAccountId: "nope" }))).code).toBe("BAD_REQUEST");
    expect((await refusal(admin.profiles.suggestions.query({ profileId: -1 }))).code).toBe("BAD_REQUEST");
  });
});
