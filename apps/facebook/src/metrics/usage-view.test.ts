import { randomUUID } from "node:crypto";
import { createTRPCClient, httpLink } from "@trpc/client";
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { AppRouter } from "../root";
import { startTestFacebook, TEST_FACEBOOK_ADMIN_TOKEN, type TestFacebook } from "../testing";
import { shareEvent } from "../../test/share-events";

const SERVICE_TOKEN = "test-service-token-metrics-0123456789";
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

it("the metrics view reads usage only where it was shared for `metrics`, and audits each datum it read", async () => {
  const admin = client({ "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN });
  const service = client({ authorization: `Bearer ${SERVICE_TOKEN}` });
  const metricsAllowed = randomUUID();
  const spamOnly = randomUUID();
  const now = new Date().toISOString();
  await service.ingest.batch.mutate({
    events: [
      shareEvent(metricsAllowed, {
        messagesSentCount: { value: { day: now.slice(0, 10), today: 2, total: 12 }, purposes: ["metrics", "spam"] },
        activeDaysCount: { value: 3, purposes: ["metrics"] },
        lastSeen: { value: now, purposes: ["metrics", "spam"] },
        country: { value: "IN", purposes: ["metrics", "spam"] },
      }),
      // Held for spam fighting only: not Facebook's to use in a metrics view.
      shareEvent(spamOnly, {
        messagesSentCount: { value: { day: now.slice(0, 10), today: 5, total: 500 }, purposes: ["spam"] },
        country: { value: "IN", purposes: ["spam"] },
      }),
    ],
  });
  expect((await refusalCode(client({}).dashboard.metrics.query()))).toBe("UNAUTHORIZED");

  const view = await admin.dashboard.metrics.query();
  expect(view.byCountry).toEqual([{ country: "IN", accounts: 1, messagesSent: 12, activeDays: 3, activeLastDay: 1 }]);
  const uses = await sql<{ whatsapp_account_id: string; datum: string; purpose: string }[]>`
    select whatsapp_account_id, datum, purpose from audit_log where feature = 'metrics-view' order by datum`;
  expect(uses).toEqual(
    ["activeDaysCount", "lastSeen", "messagesSentCount"].map((datum) => ({ whatsapp_account_id: metricsAllowed, datum, purpose: "metrics" })),
  );
});

async function refusalCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { data?: { code?: string } }).data?.code;
  }
}
