/**
 * The dashboard's messenger views through a real server: admin only, counts that
 * match what was done, envelope sizes but never content, account search by share
 * choice, and the rollout's daily figures as the simulation clock moves.
 */
import type { AppRouter } from "../root";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMessenger, TEST_ADMIN_TOKEN, type TestMessenger } from "../testing";
import { httpApi, registerAccount, type TestAccount } from "../../test/helpers";
import { RateSampler } from "../metrics/rate-sampler";

const ANNOUNCED = new Date("2016-08-25T00:00:00Z");
const DAY_MS = 24 * 60 * 60 * 1000;

let messenger: TestMessenger;
let admin: ReturnType<typeof httpApi>;
let ticked: TestAccount;
let unticked: TestAccount;
let laterOptOut: TestAccount;
let holdout: TestAccount;
let german: TestAccount;

beforeAll(async () => {
  messenger = await startTestMessenger({ simStart: new Date("2016-08-20T08:00:00Z"), rateLimits: false });
  admin = httpApi(messenger.url, undefined, TEST_ADMIN_TOKEN);
  // Indian numbers: the base regime (optout-2016) of historical-2016; Germany is under de-ban-2016 from 2016-09-27.
  ticked = await registerAccount(messenger.url, { phoneNumber: "+919810000001", keys: 3 });
  unticked = await registerAccount(messenger.url, { phoneNumber: "+919810000002" });
  laterOptOut = await registerAccount(messenger.url, { phoneNumber: "+919810000003" });
  holdout = await registerAccount(messenger.url, { phoneNumber: "+919810000004" });
  german = await registerAccount(messenger.url, { phoneNumber: "+4915199000001" });
});
afterAll(async () => {
  await messenger?.close();
});

describe("dashboard (messenger)", () => {
  it("refuses every view without the admin token", async () => {
    const anonymous = httpApi(messenger.url);
    for (const call of [
      () => anonymous.dashboard.overview.query(),
      () => anonymous.dashboard.rollout.query({}),
      () => anonymous.dashboard.findAccounts.query({ limit: 5 }),
      () => anonymous.dashboard.account.query({ accountId: ticked.accountId }),
    ]) {
      const error = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TRPCClientError);
      expect((error as TRPCClientError<AppRouter>).data?.code).toBe("UNAUTHORIZED");
    }
  });

  it("has no rollout days before the announcement, and the overview counts the sample", async () => {
    expect((await admin.dashboard.rollout.query({})).days).toEqual([]);
    const overview = await admin.dashboard.overview.query();
    expect(overview.accounts).toEqual({ total: 5, personal: 5, business: 0 });
    expect(overview.countries).toEqual([
      { country: "IN", accounts: 4 },
      { country: "DE", accounts: 1 },
    ]);
    expect(overview.devices).toEqual({ registered: 5, connected: 0 });
    expect(overview.queue.depth).toBe(0);
    expect(overview.regime).toBe("historical-2016");
    expect(new Date(overview.now).getTime()).toBeLessThan(ANNOUNCED.getTime());
  });

  it("shows an account's envelopes by size and metadata, never their content", async () => {
    const canary = Buffer.from("dashboard canary: meet at noon").toString("base64");
    await unticked.api.message.send.mutate({
      messageId: crypto.randomUUID(),
      recipient: { accountId: ticked.accountId },
      type: 1,
      content: canary,
    });
    const view = await admin.dashboard.account.query({ accountId: ticked.accountId });
    expect(view).not.toBeNull();
    expect(view!.envelopes.queuedFor).toBe(1);
    expect(view!.envelopes.recent).toEqual([
      expect.objectContaining({
        direction: "in",
        peerAccountId: unticked.accountId,
        type: 1,
        bytes: Buffer.from(canary, "base64").length,
      }),
    ]);
    expect(view!.devices[0]!.keys).toMatchObject({ signedPrekeys: 1, oneTimePrekeys: 3 });
    const text = JSON.stringify(view);
    expect(text).not.toContain(canary);
    expect(text).not.toContain("meet at noon");
    const overview = await admin.dashboard.overview.query();
    expect(overview.queue.depth).toBe(1);
    expect(await admin.dashboard.account.query({ accountId: crypto.randomUUID() })).toBeNull();
  });

  it("counts each day of the rollout and what each regime lets serve ads", async () => {
    await admin.admin.setClock.mutate({ at: new Date(ANNOUNCED.getTime() + 3_600_000).toISOString() });
    await ticked.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true });
    await unticked.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: false });
    await laterOptOut.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true });
    await german.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true });

    const first = await admin.dashboard.rollout.query({});
    expect(first.days).toHaveLength(1);
    expect(first.days[0]).toMatchObject({
      day: "2016-08-25",
      registered: 5,
      existingUsers: 5,
      accepted: 4,
      boxUnticked: 1,
      settingsOptOuts: 0,
      lockedOut: 0,
    });
    // optout-2016 everywhere: the three who left the box ticked; historical-2016 the same until the
    // Hamburg order of 2016-09-27; optin: nobody ticked an unticked box; the EU pause and the ban: nobody.
    expect(first.days[0]!.mayServe).toMatchObject({
      "optout-2016": { ads: 3, product: 3 },
      "historical-2016": { ads: 3, product: 3 },
      optin: { ads: 0, product: 0 },
      "eu-pause-2016": { ads: 0, product: 0 },
      "de-ban-2016": { ads: 0, product: 0 },
      none: { ads: 0, product: 0 },
    });

    await admin.admin.advanceClock.mutate({ days: 2 });
    await laterOptOut.api.settings.setShareAccountInfo.mutate({ shareWithFacebook: false });
    const third = await admin.dashboard.rollout.query({});
    expect(third.days.map((d) => d.day)).toEqual(["2016-08-25", "2016-08-26", "2016-08-27"]);
    // History is kept: on day 0 the later opt-out still shared.
    expect(third.days[0]!.mayServe["optout-2016"].ads).toBe(3);
    expect(third.days[2]).toMatchObject({ settingsOptOuts: 1, mayServe: expect.objectContaining({ "optout-2016": { ads: 2, product: 2 } }) });

    const india = await admin.dashboard.rollout.query({ country: "IN" });
    expect(india.country).toBe("IN");
    expect(india.days[2]).toMatchObject({ registered: 4, accepted: 3 });

    // Past the acceptance deadline, the holdout is locked out.
    await admin.admin.setClock.mutate({ at: new Date(ANNOUNCED.getTime() + 31 * DAY_MS).toISOString() });
    const all = await admin.dashboard.rollout.query({});
    expect(all.days).toHaveLength(31);
    expect(all.days[29]!.lockedOut).toBe(0);
    expect(all.days[30]).toMatchObject({ day: "2016-09-24", lockedOut: 1, accepted: 4 });
  });

  it("finds accounts by share choice, country and phone prefix", async () => {
    const optedOut = await admin.dashboard.findAccounts.query({ optedOut: true, limit: 10 });
    expect(optedOut.accounts.map((a) => a.id).sort()).toEqual([unticked.accountId, laterOptOut.accountId].sort());
    expect(optedOut.accounts.find((a) => a.id === laterOptOut.accountId)).toMatchObject({
      accepted: true,
      shareWithFacebook: false,
      method: "settings-within-window",
    });
    const notAccepted = await admin.dashboard.findAccounts.query({ accepted: false, limit: 10 });
    expect(notAccepted.accounts.map((a) => a.id)).toEqual([holdout.accountId]);
    const germans = await admin.dashboard.findAccounts.query({ country: "DE", limit: 10 });
    expect(germans.accounts.map((a) => a.id)).toEqual([german.accountId]);
    const byPhone = await admin.dashboard.findAccounts.query({ query: "+91 98100 00003", limit: 10 });
    expect(byPhone.accounts.map((a) => a.id)).toEqual([laterOptOut.accountId]);
    const byId = await admin.dashboard.findAccounts.query({ query: holdout.accountId.slice(0, 13), limit: 10 });
    expect(byId.accounts.map((a) => a.id)).toContain(holdout.accountId);
  });

  it("reports the consent history and decisions of one account", async () => {
    const view = await admin.dashboard.account.query({ accountId: laterOptOut.accountId });
    expect(view!.consent.history.map((h) => h.kind)).toEqual(["terms-accepted", "share-opted-out"]);
    expect(view!.consent.share).toMatchObject({ shareWithFacebook: false, method: "settings-within-window" });
    expect(view!.consent.purposes).toMatchObject({ ads: false, product: false, spam: true });
    expect(view!.shareEvents.total).toBeGreaterThan(0);
  });
});

describe("RateSampler", () => {
  it("turns counter samples into per-second rates over the window", () => {
    const sampler = new RateSampler(60_000);
    expect(sampler.rates()).toBeNull();
    sampler.record({ realMs: 0, stored: 100, deleted: 10, writerOps: 5 });
    expect(sampler.rates()).toBeNull();
    sampler.record({ realMs: 2_000, stored: 300, deleted: 50, writerOps: 25 });
    expect(sampler.rates()).toEqual({ seconds: 2, storedPerSecond: 100, deliveredPerSecond: 20, writerOpsPerSecond: 10 });
  });

  it("forgets samples older than the window", () => {
    const sampler = new RateSampler(10_000);
    for (let t = 0; t <= 30_000; t += 1_000) sampler.record({ realMs: t, stored: t < 20_000 ? 0 : (t - 20_000) / 10, deleted: 0, writerOps: 0 });
    // Between t=20 s and t=30 s: 1,000 envelopes in 10 s.
    expect(sampler.rates()).toMatchObject({ seconds: 10, storedPerSecond: 100 });
  });
});
