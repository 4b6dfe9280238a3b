/**
 * `dashboard.live` over a real WebSocket: the overview's figures now and as they
 * change, one read per interval shared by every listener, the admin token required,
 * and the sampler stopped once the last listener leaves.
 */
import { createTRPCClient, createWSClient, TRPCClientError, wsLink } from "@trpc/client";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppRouter } from "../root";
import { startTestMessenger, TEST_ADMIN_TOKEN, type TestMessenger } from "../testing";
import { registerAccount } from "../../test/helpers";

let messenger: TestMessenger;

beforeAll(async () => {
  messenger = await startTestMessenger({ simStart: new Date("2016-08-20T08:00:00Z"), rateLimits: false });
  await registerAccount(messenger.url, { phoneNumber: "+919810000101" });
});
afterAll(async () => {
  await messenger?.close();
});

function adminSocket(adminToken?: string) {
  const client = createWSClient({
    url: messenger.url.replace(/^http/, "ws"),
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: () => (adminToken ? { adminToken } : {}),
  });
  return { api: createTRPCClient<AppRouter>({ links: [wsLink({ client })] }), close: () => client.close() };
}

type Overview = { id: string; data: { accounts: { total: number }; otherCountries: { countries: number } } };

/** Subscribes and collects samples; `until` resolves when `check` holds for one. */
function listen(api: ReturnType<typeof adminSocket>["api"], topCountries: number) {
  const samples: Overview[] = [];
  const errors: unknown[] = [];
  let waiter: { check: (o: Overview) => boolean; resolve: (o: Overview) => void } | null = null;
  const subscription = api.dashboard.live.subscribe(
    { topCountries },
    {
      onData: (sample) => {
        samples.push(sample as Overview);
        if (waiter?.check(sample as Overview)) waiter.resolve(sample as Overview);
      },
      onError: (error) => errors.push(error),
    },
  );
  const until = (check: (o: Overview) => boolean) =>
    new Promise<Overview>((resolve) => {
      const found = samples.find(check);
      if (found) resolve(found);
      else waiter = { check, resolve };
    });
  return { samples, errors, until, stop: () => subscription.unsubscribe() };
}

describe("dashboard.live", () => {
  it("streams the overview now and as accounts arrive, one sampler for every listener", async () => {
    const a = adminSocket(TEST_ADMIN_TOKEN);
    const b = adminSocket(TEST_ADMIN_TOKEN);
    const first = listen(a.api, 8);
    const second = listen(b.api, 1);
    const now = await first.until((o) => o.data.accounts.total === 1);
    expect(Number(now.id)).toBeGreaterThan(0);
    await second.until((o) => o.data.accounts.total === 1);
    expect(messenger.server.services.liveOverview.listening).toBe(2);

    await registerAccount(messenger.url, { phoneNumber: "+4915199000101" });
    const a2 = await first.until((o) => o.data.accounts.total === 2);
    const b2 = await second.until((o) => o.data.accounts.total === 2);
    // Both listeners got the same sample (one read), each cut to its own top countries.
    expect(a2.id).toBe(b2.id);
    expect(a2.data.otherCountries.countries).toBe(0);
    expect(b2.data.otherCountries.countries).toBe(1);
    // Tracked ids only grow.
    const ids = first.samples.map((s) => Number(s.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));

    first.stop();
    second.stop();
    a.close();
    b.close();
    await expect.poll(() => messenger.server.services.liveOverview.listening).toBe(0);
  });

  it("refuses a socket without the admin token, and keeps streaming for the others", async () => {
    const anonymous = adminSocket();
    const refused = listen(anonymous.api, 8);
    await expect.poll(() => refused.errors.length).toBe(1);
    expect(refused.errors[0]).toBeInstanceOf(TRPCClientError);
    expect((refused.errors[0] as TRPCClientError<AppRouter>).data?.code).toBe("UNAUTHORIZED");
    anonymous.close();

    const admin = adminSocket(TEST_ADMIN_TOKEN);
    const ok = listen(admin.api, 8);
    await ok.until((o) => o.data.accounts.total === 2);
    ok.stop();
    admin.close();
  });
});
