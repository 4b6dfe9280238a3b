/**
 * Unauthenticated write amplification (issue 10, defect 10): refused advertiser
 * calls are counted, not logged row by row, and a tRPC batch is capped.
 * Raw HTTP against the real server, real PostgreSQL.
 */
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppRouter } from "../root";
import { startTestFacebook, TEST_FACEBOOK_ADMIN_TOKEN, type TestFacebook } from "../testing";
const MAX_BATCH_CALLS = 50;

let facebook: TestFacebook;
let sql: postgres.Sql;

/** One HTTP request carrying `calls` calls of audiences.create as a tRPC batch. */
async function batchOfCreates(calls: number, authorization?: string) {
  const paths = Array.from({ length: calls }, () => "audiences.create").join(",");
  const body = Object.fromEntries(Array.from({ length: calls }, (_, i) => [String(i), { name: `probe ${i}` }]));
  const response = await fetch(`${facebook.url}/${paths}?batch=1`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

const loggedRows = async () => (await sql<{ n: number }[]>`select count(*)::int as n from advertiser_api_log`)[0]!.n;

async function refusals() {
  await facebook.server.services.refusals.flush();
  return sql<{ path: string; code: string; caller: string; refusals: number }[]>`
    select path, code, caller, sum(refusals)::int as refusals from advertiser_api_refusals
    group by path, code, caller order by caller, code`;
}

beforeAll(async () => {
  facebook = await startTestFacebook({
    audienceBudget: { audienceCreate: { capacity: 1, refillPerSecond: 1 / 86_400, description: "test" } },
  });
  sql = postgres(facebook.databaseUrl, { max: 2, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
  await facebook?.close();
});

describe("tRPC batches", () => {
  it(`refuses a batch of more than ${MAX_BATCH_CALLS} calls as a whole, with a clear error, running none of them`, async () => {
    const { status, body } = await batchOfCreates(900);
    expect(status).toBe(400);
    expect(JSON.stringify(body)).toContain(`a batch may hold at most ${MAX_BATCH_CALLS} calls`);
    expect(await loggedRows()).toBe(0);
    expect(await refusals()).toEqual([]);
    // The service keeps answering.
    const small = await batchOfCreates(2);
    expect(small.body).toHaveLength(2);
  });
});

describe("refused advertiser calls", () => {
  it("are counted per path, code and caller instead of written one row each", async () => {
    const before = await loggedRows();
    for (let request = 0; request < 10; request++) {
      const { body } = await batchOfCreates(MAX_BATCH_CALLS, request % 2 ? "Bearer adv.wrong" : undefined);
      expect(body).toHaveLength(MAX_BATCH_CALLS);
      expect(JSON.stringify(body)).toContain("UNAUTHORIZED");
    }
    expect(await loggedRows()).toBe(before);
    const counted = await refusals();
    expect(counted.find((r) => r.caller === "anonymous")).toEqual({
      path: "audiences.create",
      code: "UNAUTHORIZED",
      caller: "anonymous",
      refusals: 10 * MAX_BATCH_CALLS + 2, // + the two calls of the small batch above
    });
  });

  it("counts an advertiser's budget refusals under its id, and still logs every answer with data", async () => {
    const admin = createTRPCClient<AppRouter>({ links: [httpLink({ url: facebook.url, headers: { "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN } })] });
    const { advertiserId, credential } = await admin.advertisers.create.mutate({ name: "Budgeted" });
    const advertiser = createTRPCClient<AppRouter>({ links: [httpLink({ url: facebook.url, headers: { authorization: `Bearer ${credential}` } })] });
    const before = await loggedRows();
    await advertiser.audiences.create.mutate({ name: "the one allowed" });
    const refused = await advertiser.audiences.create.mutate({ name: "over budget" }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TRPCClientError);
    expect((refused as TRPCClientError<AppRouter>).data?.code).toBe("TOO_MANY_REQUESTS");
    expect(await loggedRows()).toBe(before + 1);
    expect((await refusals()).find((r) => r.caller === advertiserId)).toEqual({
      path: "audiences.create",
      code: "TOO_MANY_REQUESTS",
      caller: advertiserId,
      refusals: 1,
    });
  });
});
