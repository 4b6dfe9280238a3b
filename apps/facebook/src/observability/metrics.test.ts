/**
 * `/metrics` of a real Facebook-side service (real PostgreSQL, real HTTP): ingest
 * batches, events and lag, audience calls by outcome and refusals move by exactly
 * the calls made; the endpoint wants METRICS_TOKEN when one is configured.
 */
import { randomUUID } from "node:crypto";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scrapeMetrics, sumOf, type Sample } from "@handshake/observability/scrape";
import type { AppRouter } from "../root";
import { startTestFacebook, TEST_FACEBOOK_ADMIN_TOKEN, type TestFacebook } from "../testing";
import { shareEvent } from "../../test/share-events";

const SERVICE_TOKEN = "test-service-token-metrics-012345";
const METRICS_TOKEN = "test-metrics-token-0123456789";
let facebook: TestFacebook;
let origin: string;
const client = (headers: Record<string, string> = {}) =>
  createTRPCClient<AppRouter>({ links: [httpLink({ url: facebook.url, headers })] });

beforeAll(async () => {
  facebook = await startTestFacebook({ serviceToken: SERVICE_TOKEN, metricsToken: METRICS_TOKEN });
  origin = facebook.url.replace(/\/trpc$/, "");
});
afterAll(async () => {
  await facebook?.close();
});

const scrape = () => scrapeMetrics(origin, { token: METRICS_TOKEN });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) return error.data?.code as string;
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe("facebook /metrics", () => {
  it("is refused without the metrics token (and with the admin token), served with it", async () => {
    expect((await fetch(`${origin}/metrics`)).status).toBe(401);
    expect((await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${TEST_FACEBOOK_ADMIN_TOKEN}` } })).status).toBe(401);
    const ok = await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("# TYPE facebook_ingest_batches_total counter");
  });

  it("counts ingest batches, accepted and duplicate events, and the lag the shipper's header tells", async () => {
    const before = await scrape();
    const delta = (after: Sample[], name: string, labels: Record<string, string> = {}) => sumOf(after, name, labels) - sumOf(before, name, labels);
    const enqueuedAt = Date.now() - 2_000;
    const shipper = client({ authorization: `Bearer ${SERVICE_TOKEN}`, "x-share-enqueued-at": String(enqueuedAt) });
    const events = [randomUUID(), randomUUID(), randomUUID()].map((account) => shareEvent(account, { lastSeen: { value: "2016-08-26T09:00:00.000Z", purposes: ["product"] } }));
    expect(await shipper.ingest.batch.mutate({ events })).toEqual({ accepted: 3, duplicates: 0 });
    expect(await shipper.ingest.batch.mutate({ events })).toEqual({ accepted: 0, duplicates: 3 });
    expect(await codeOf(client().ingest.batch.mutate({ events }))).toBe("UNAUTHORIZED");

    const after = await scrape();
    expect(delta(after, "facebook_ingest_batches_total")).toBe(2);
    expect(delta(after, "facebook_ingest_events_total", { result: "accepted" })).toBe(3);
    expect(delta(after, "facebook_ingest_events_total", { result: "duplicate" })).toBe(3);
    expect(delta(after, "facebook_ingest_lag_seconds_count")).toBe(2);
    expect(delta(after, "facebook_ingest_lag_seconds_sum")).toBeGreaterThanOrEqual(4);
    expect(delta(after, "facebook_trpc_calls_total", { procedure: "ingest.batch", outcome: "ok" })).toBe(2);
    expect(delta(after, "facebook_refused_calls_total", { procedure: "ingest.batch", code: "UNAUTHORIZED" })).toBe(1);
    expect(delta(after, "facebook_trpc_call_duration_seconds_count", { procedure: "ingest.batch" })).toBe(3);
  });

  it("counts audience calls by outcome, and refusals on their own", async () => {
    const before = await scrape();
    const delta = (after: Sample[], name: string, labels: Record<string, string> = {}) => sumOf(after, name, labels) - sumOf(before, name, labels);
    const admin = client({ "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN });
    const { credential } = await admin.advertisers.create.mutate({ name: "metrics" });
    const advertiser = client({ authorization: `Bearer ${credential}` });
    const { audienceId } = await advertiser.audiences.create.mutate({ name: "one" });
    await advertiser.audiences.get.query({ audienceId });
    expect(await codeOf(advertiser.audiences.get.query({ audienceId: randomUUID() }))).toBe("NOT_FOUND");
    expect(await codeOf(client().audiences.create.mutate({ name: "anonymous" }))).toBe("UNAUTHORIZED");
    expect(await codeOf(client({ authorization: "Bearer adv.nonsense" }).audiences.list.query())).toBe("UNAUTHORIZED");

    const after = await scrape();
    expect(delta(after, "facebook_audience_calls_total", { procedure: "audiences.create", outcome: "ok" })).toBe(1);
    expect(delta(after, "facebook_audience_calls_total", { procedure: "audiences.get", outcome: "ok" })).toBe(1);
    expect(delta(after, "facebook_audience_calls_total", { procedure: "audiences.get", outcome: "NOT_FOUND" })).toBe(1);
    expect(delta(after, "facebook_audience_calls_total", { outcome: "UNAUTHORIZED" })).toBe(2);
    expect(delta(after, "facebook_audience_calls_total")).toBe(5);
    expect(delta(after, "facebook_refused_calls_total", { code: "UNAUTHORIZED" })).toBe(2);
    // Not an audience call, counted among all calls.
    expect(delta(after, "facebook_trpc_calls_total", { procedure: "advertisers.create", outcome: "ok" })).toBe(1);
  });
});
