/**
 * A restart, or a second node, changes nothing an advertiser can observe (issue 10,
 * defect 7): the estimate noise key and the budgets live in the database. Before,
 * the key was random per process (the same audiences answered differently after a
 * restart) and budgets were in memory (the 51st audience, refused, was allowed
 * after a restart). Real servers over HTTP, one real PostgreSQL database.
 */
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@handshake/db/testing";
import type { AppRouter } from "../root";
import { startTestFacebook, TEST_FACEBOOK_ADMIN_TOKEN, type TestFacebook } from "../testing";
import { hashNormalisedPhone } from "./normalise";

const AUDIENCES = 12;
const MEMBERS = 150; // noise ±50 around the 150 cut-off: each list is "too small" or "100–200" by its key
const budget = { audienceCreate: { capacity: AUDIENCES, refillPerSecond: AUDIENCES / 86_400, description: "audiences created by this advertiser" } };

let database: TestDatabase;
let sql: postgres.Sql;
const running: TestFacebook[] = [];

const start = async () => {
  const facebook = await startTestFacebook({ databaseUrl: database.url, audienceBudget: budget });
  running.push(facebook);
  return facebook;
};
const stop = async (facebook: TestFacebook) => {
  running.splice(running.indexOf(facebook), 1);
  await facebook.close();
};
const client = (facebook: TestFacebook, headers: Record<string, string>) =>
  createTRPCClient<AppRouter>({ links: [httpLink({ url: facebook.url, headers })] });
const as = (facebook: TestFacebook, credential: string) => client(facebook, { authorization: `Bearer ${credential}` });

const memberRows = Array.from({ length: MEMBERS }, (_, i) => hashNormalisedPhone(String(919_000_000_000 + i)));
/** The answers the advertiser sees for all its audiences, in order. */
const sizes = async (facebook: TestFacebook, credential: string) =>
  (await as(facebook, credential).audiences.list.query()).audiences.map((a) => ({ id: a.audienceId, size: a.size }));
const codeOfError = (error: unknown) => (error instanceof TRPCClientError ? (error.data as { code?: string } | undefined)?.code : error);
const codeOf = (promise: Promise<unknown>) => promise.then(() => null, codeOfError);

beforeAll(async () => {
  database = await createTestDatabase("facebook");
  const first = await start();
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
  await sql`insert into profiles (id, name, country, phone_number)
            select i, 'Person ' || i, 'IN', '+' || (919000000000 + i)::text from generate_series(0, ${MEMBERS - 1}::int) as i`;
  await stop(first);
});

afterAll(async () => {
  await sql?.end();
  for (const facebook of running.splice(0)) await facebook.close();
  await database?.drop();
});

describe("audience estimates and budgets across restarts and nodes", () => {
  it("answers the same audiences identically after a restart, and still refuses what the budget refused", async () => {
    const before = await start();
    const { credential } = await client(before, { "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN }).advertisers.create.mutate({ name: "Prober" });
    for (let n = 0; n < AUDIENCES; n++) {
      const { audienceId } = await as(before, credential).audiences.create.mutate({ name: `list ${n}` });
      // One stranger row per list: every list has its own digest, hence its own noise.
      await as(before, credential).audiences.upload.mutate({ audienceId, hashes: [...memberRows, hashNormalisedPhone(String(918_000_000_000 + n))] });
    }
    const answered = await sizes(before, credential);
    expect(new Set(answered.map((a) => JSON.stringify(a.size))).size).toBeGreaterThan(1); // the noise does vary by list
    expect(await codeOf(as(before, credential).audiences.create.mutate({ name: "one too many" }))).toBe("TOO_MANY_REQUESTS");
    await stop(before);

    const after = await start();
    expect(await sizes(after, credential)).toEqual(answered);
    expect(await codeOf(as(after, credential).audiences.create.mutate({ name: "one too many, again" }))).toBe("TOO_MANY_REQUESTS");
    await stop(after);
  });

  it("gives two nodes on one database the same answers and one budget between them", async () => {
    const [nodeA, nodeB] = [await start(), await start()];
    expect(nodeA.server.services.estimateKey.equals(nodeB.server.services.estimateKey)).toBe(true);
    const { credential } = await client(nodeA, { "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN }).advertisers.create.mutate({ name: "Two-node" });
    const outcomes = await Promise.all(
      Array.from({ length: 3 * AUDIENCES }, (_, n) =>
        as(n % 2 ? nodeA : nodeB, credential).audiences.create.mutate({ name: `race ${n}` }).then(() => "created", codeOfError),
      ),
    );
    expect(outcomes.filter((o) => o === "created")).toHaveLength(AUDIENCES);
    expect(outcomes.filter((o) => o === "TOO_MANY_REQUESTS")).toHaveLength(2 * AUDIENCES);
    const [listA] = (await as(nodeA, credential).audiences.list.query()).audiences;
    await as(nodeA, credential).audiences.upload.mutate({ audienceId: listA!.audienceId, hashes: memberRows });
    expect(await sizes(nodeB, credential)).toEqual(await sizes(nodeA, credential));
  });
});
