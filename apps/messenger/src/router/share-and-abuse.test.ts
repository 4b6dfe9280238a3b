/**
 * The share pipeline's admin procedures and the spam-signal entry point answer
 * bad input with a clear error and keep serving. Real server, real HTTP.
 */
import { randomUUID } from "node:crypto";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppRouter } from "../root";
import { startTestMessenger, TEST_ADMIN_TOKEN, TEST_SERVICE_TOKEN, type TestMessenger } from "../testing";
import { registerAccount, sendOpaque } from "../../test/helpers";

let messenger: TestMessenger;
const client = (headers: Record<string, string> = {}) =>
  createTRPCClient<AppRouter>({ links: [httpLink({ url: messenger.url, headers })] });

beforeAll(async () => {
  messenger = await startTestMessenger({ rateLimits: false });
});
afterAll(async () => {
  await messenger?.close();
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

describe("abuse.report (spam signals from the Facebook side)", () => {
  it("refuses callers without the service token, and malformed or unknown targets", async () => {
    const account = await registerAccount(messenger.url);
    const report = { accountId: account.accountId, action: "suspend" as const, reason: "test" };
    expect((await refusal(client().abuse.report.mutate(report))).code).toBe("UNAUTHORIZED");
    expect((await refusal(client({ "x-service-token": "x".repeat(29) }).abuse.report.mutate(report))).code).toBe("UNAUTHORIZED");
    // A device credential or the admin token is not the service token.
    expect((await refusal(client({ authorization: `Bearer ${account.credential}` }).abuse.report.mutate(report))).code).toBe(
      "UNAUTHORIZED",
    );
    expect((await refusal(client({ "x-admin-token": TEST_ADMIN_TOKEN }).abuse.report.mutate(report))).code).toBe("UNAUTHORIZED");

    const service = client({ "x-service-token": TEST_SERVICE_TOKEN });
    expect((await refusal(service.abuse.report.mutate({ ...report, accountId: randomUUID() }))).code).toBe("NOT_FOUND");
    expect((await refusal(service.abuse.report.mutate({ ...report, action: "ban" as "suspend" }))).code).toBe("BAD_REQUEST");
    expect((await refusal(service.abuse.report.mutate({ ...report, reason: "" }))).code).toBe("BAD_REQUEST");
    expect((await refusal(service.abuse.report.mutate({ ...report, reason: "x".repeat(201) }))).code).toBe("BAD_REQUEST");

    // Nothing above restricted the account: it still sends.
    const other = await registerAccount(messenger.url);
    await expect(sendOpaque(account, other, 1)).resolves.toHaveLength(1);
    await service.abuse.report.mutate(report);
    expect((await refusal(sendOpaque(account, other, 1))).message).toMatch(/suspended for spam/);
    await service.abuse.report.mutate({ ...report, action: "clear" });
    await expect(sendOpaque(account, other, 1)).resolves.toHaveLength(1);
  });
});

describe("share.status and share.setRegime", () => {
  it("refuse callers without the admin token and regimes the rules do not know", async () => {
    expect((await refusal(client().share.status.query())).code).toBe("UNAUTHORIZED");
    expect((await refusal(client().share.setRegime.mutate({ regime: "none" }))).code).toBe("UNAUTHORIZED");
    const admin = client({ "x-admin-token": TEST_ADMIN_TOKEN });
    expect((await refusal(admin.share.setRegime.mutate({ regime: "anything-goes" as "none" }))).code).toBe("BAD_REQUEST");
    expect(
      (await refusal(admin.share.setRegime.mutate({ regime: { base: "optout-2016", byCountry: { germany: "none" } } as never }))).code,
    ).toBe("BAD_REQUEST");
    expect((await admin.share.status.query()).regime).toBe("historical-2016");
    const switched = await admin.share.setRegime.mutate({ regime: { base: "optout-2016", byCountry: { DE: "de-ban-2016" } } });
    expect(switched.regime).toEqual({ base: "optout-2016", byCountry: { DE: "de-ban-2016" } });
    expect((await admin.share.status.query()).regime).toEqual(switched.regime);
    // No Facebook URL configured: the outbox is kept and the status says why.
    expect((await admin.share.status.query()).shipper).toMatchObject({ state: "disabled", lastError: expect.stringMatching(/FACEBOOK_URL/) });
  });
});
