/**
 * The membership-inference attack on audience sizes, run for real over HTTP:
 * for each target, upload a base list L to a fresh audience and L plus the
 * target's hashed number to another, compare the sizes, and guess "on Facebook"
 * when they differ. Against the defended estimator the guesses must be no better
 * than a coin; against an exact count and against noiseless rounding (what
 * researchers broke in 2018) the same attack must win, or this test proves nothing.
 */
import { createTRPCClient, httpLink } from "@trpc/client";
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { AppRouter } from "../root";
import { startTestFacebook, TEST_FACEBOOK_ADMIN_TOKEN, type TestFacebook } from "../testing";
import { bucketOf } from "./estimate";
import { hashNormalisedPhone } from "./normalise";

const BASE_MEMBERS = 999; // one under the 1,000 bucket edge: the rounding attack's best spot
const BASE_STRANGERS = 50;
const TARGETS_PER_CLASS = 100;
const OTHER_PROFILES = 200;

const digitsOf = (i: number) => `91${9_000_000_000 + i}`;
const strangerRow = (i: number) => hashNormalisedPhone(`91${8_000_000_000 + i}`);

let facebook: TestFacebook;
let sql: postgres.Sql;

beforeAll(async () => {
  facebook = await startTestFacebook({
    estimateKey: Buffer.alloc(32, 11), // fixed: the measured accuracy is reproducible
    audienceBudget: {
      audienceCreate: { capacity: 10_000, refillPerSecond: 1, description: "test" },
      audienceUpload: { capacity: 10_000, refillPerSecond: 1, description: "test" },
    },
  });
  sql = postgres(facebook.databaseUrl, { max: 2, onnotice: () => {} });
  const profiles = BASE_MEMBERS + TARGETS_PER_CLASS + OTHER_PROFILES;
  await sql`
    insert into profiles (id, name, country, phone_number)
    select i, 'Person ' || i, 'IN', '+' || (919000000000 + i)::text from generate_series(0, ${profiles - 1}::int) as i`;
});

afterAll(async () => {
  await sql?.end();
  await facebook?.close();
});

it("the size-difference attack guesses membership no better than chance; it wins against exact and rounded counts", async () => {
  const { credential } = await createTRPCClient<AppRouter>({
    links: [httpLink({ url: facebook.url, headers: { "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN } })],
  }).advertisers.create.mutate({ name: "Curious Ltd" });
  const attacker = createTRPCClient<AppRouter>({ links: [httpLink({ url: facebook.url, headers: { authorization: `Bearer ${credential}` } })] });

  const base = [
    ...Array.from({ length: BASE_MEMBERS }, (_, i) => hashNormalisedPhone(digitsOf(i))),
    ...Array.from({ length: BASE_STRANGERS }, (_, i) => strangerRow(i)),
  ];
  const targets = [
    ...Array.from({ length: TARGETS_PER_CLASS }, (_, i) => ({ row: hashNormalisedPhone(digitsOf(BASE_MEMBERS + i)), member: true })),
    ...Array.from({ length: TARGETS_PER_CLASS }, (_, i) => ({ row: strangerRow(BASE_STRANGERS + i), member: false })),
  ];

  const sizeOf = async (rows: string[], name: string) => {
    const { audienceId } = await attacker.audiences.create.mutate({ name });
    const { size } = await attacker.audiences.upload.mutate({ audienceId, hashes: rows });
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from audience_members where audience_id = ${audienceId}`;
    const n = row!.n;
    return { reported: JSON.stringify(size), exact: n };
  };

  const guesses = { defended: 0, exact: 0, rounded: 0 };
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const target = targets[next++]!;
      const before = await sizeOf(base, "base");
      const after = await sizeOf([...base, target.row], "base + target");
      const says = {
        defended: before.reported !== after.reported,
        exact: before.exact !== after.exact,
        // Facebook's estimates before the fix: the true count, rounded to a bucket.
        rounded: JSON.stringify(bucketOf(before.exact, 100)) !== JSON.stringify(bucketOf(after.exact, 100)),
      };
      for (const key of ["defended", "exact", "rounded"] as const) if (says[key] === target.member) guesses[key]++;
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));

  const n = targets.length;
  const accuracy = { defended: guesses.defended / n, exact: guesses.exact / n, rounded: guesses.rounded / n };
  // Two-sided 99% binomial interval around 1/2 for n guesses: ±2.576·sqrt(1/4n) (±9.1 points for 200).
  const halfWidth = 2.576 * Math.sqrt(0.25 / n);
  console.info(
    `inference attack over ${n} targets (${((performance.now() - started) / 1000).toFixed(1)} s): ` +
      `defended ${(accuracy.defended * 100).toFixed(1)}% (chance 50% ± ${(halfWidth * 100).toFixed(1)}), ` +
      `exact count ${(accuracy.exact * 100).toFixed(1)}%, noiseless rounding ${(accuracy.rounded * 100).toFixed(1)}%`,
  );
  expect(accuracy.exact).toBe(1);
  expect(accuracy.rounded).toBe(1);
  expect(Math.abs(accuracy.defended - 0.5)).toBeLessThanOrEqual(halfWidth);
}, 60_000);
