/**
 * The 2016 rollout, end to end through the running messenger with the simulation
 * clock: acceptances with and without the box, settings opt-outs inside and after
 * the window, a holdout locked out and let back in, a new user with no choice —
 * and the decisions read back through the API match @handshake/consent.
 */
import { randomUUID } from "node:crypto";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  acceptTerms,
  mayShare,
  newAccount,
  optOutInSettings,
  PURPOSES,
  type ConsentState,
} from "@handshake/consent";
import type { DeliveredEnvelope } from "@handshake/crypto/wire";
import { startTestMessenger, TEST_ADMIN_TOKEN, type TestMessenger } from "../testing";
import { httpApi, registerAccount, sendOpaque, wsApi, type TestAccount } from "../../test/helpers";

const ANNOUNCED = new Date("2016-08-25T00:00:00Z");
let messenger: TestMessenger;
let admin: ReturnType<typeof httpApi>;

beforeAll(async () => {
  messenger = await startTestMessenger({ simStart: new Date("2016-08-20T08:00:00Z"), rateLimits: false });
  admin = httpApi(messenger.url, undefined, TEST_ADMIN_TOKEN);
});
afterAll(async () => {
  await messenger?.close();
});

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) {
      return { code: error.data?.code as string, reason: error.data?.reason as string | undefined, message: error.message };
    }
    throw error;
  }
  throw new Error("expected a refusal");
}

/** The same account, rebuilt with the pure rules from what the API reported. */
interface Mirror {
  account: TestAccount;
  state: ConsentState;
}

async function expectDecisionsMatch(mirror: Mirror) {
  const decisions = await mirror.account.api.settings.decisions.query();
  const at = new Date(decisions.at);
  const expected = Object.fromEntries(PURPOSES.map((p) => [p, mayShare(mirror.state, p, at, "historical-2016")]));
  expect(decisions.purposes).toEqual(expected);
}

describe("the 2016 rollout", () => {
  it("runs through 30 simulated days with every kind of choice", async () => {
    const registeredAt = new Date((await admin.clock.now.query()).now);
    expect(registeredAt < ANNOUNCED).toBe(true);
    let serial = 0;
    // Indian mobile numbers: India is under the base regime (optout-2016) in historical-2016.
    const indian = () => `+9198${String(10_000_000 + serial++).slice(-8)}`;
    const existing = async (phoneNumber = indian()) => {
      const account = await registerAccount(messenger.url, { phoneNumber });
      const [row] = await messenger.server.services.sql<{ created_at: Date; country: string }[]>`
        select created_at, country from accounts where id = ${account.accountId}`;
      return { account, state: newAccount({ registeredAt: row!.created_at, country: row!.country }) } satisfies Mirror;
    };
    const ticked = await existing();
    const unticked = await existing();
    const day29 = await existing();
    const day31 = await existing();
    const holdout = await existing();
    const german = await existing("+4915199887766");
    const brazilian = await existing("+5511987654321");

    // Before the announcement: the 2012 terms, nothing to do.
    const before = await ticked.account.api.terms.current.query();
    expect(before).toMatchObject({ inForce: { version: "2012-07-07" }, mustAccept: false, serviceAvailable: true });

    // 2016-08-25: the new terms, with the pre-ticked box for existing users.
    await admin.admin.setClock.mutate({ at: new Date(ANNOUNCED.getTime() + 3600_000).toISOString() });
    const announced = await ticked.account.api.terms.current.query();
    expect(announced).toMatchObject({
      inForce: { version: "2016-08-25" },
      mustAccept: true,
      serviceAvailable: true,
      shareBox: "pre-ticked",
    });

    const accept = async (mirror: Mirror, shareWithFacebook: boolean) => {
      const result = await mirror.account.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook });
      const next = acceptTerms(
        mirror.state,
        { version: "2016-08-25", shareWithFacebook, at: new Date(result.acceptedAt) },
        { regime: "historical-2016" },
      );
      if (!next.ok) throw new Error(next.refusal.message);
      mirror.state = next.state;
      return result;
    };
    expect((await accept(ticked, true)).share).toMatchObject({ shareWithFacebook: true, method: "default-ticked" });
    expect((await accept(unticked, false)).share).toMatchObject({
      shareWithFacebook: false,
      method: "unticked-at-acceptance",
    });
    await accept(day29, true);
    await accept(day31, true);
    await accept(german, true);
    await accept(brazilian, false);
    for (const mirror of [ticked, unticked, day29, day31, german, brazilian]) await expectDecisionsMatch(mirror);
    // Opting out covers ads and product only; Germany shares like everyone until the Hamburg order (2016-09-27).
    expect((await unticked.account.api.settings.decisions.query()).purposes).toMatchObject({ ads: false, product: false, spam: true });
    expect((await ticked.account.api.settings.decisions.query()).purposes).toMatchObject({ ads: true, product: true });
    expect((await german.account.api.settings.decisions.query()).purposes).toMatchObject({ ads: true, product: true, spam: true });

    // Day 29 after accepting: the settings opt-out is still open.
    await admin.admin.advanceClock.mutate({ days: 29 });
    expect((await day29.account.api.settings.shareAccountInfo.query()).canChange).toBe(true);
    const optedOut = await day29.account.api.settings.setShareAccountInfo.mutate({ shareWithFacebook: false });
    expect(optedOut.method).toBe("settings-within-window");
    const mirrored = optOutInSettings(day29.state, new Date(optedOut.at));
    if (!mirrored.ok) throw new Error(mirrored.refusal.message);
    day29.state = mirrored.state;
    await expectDecisionsMatch(day29);

    // Day 31: the window closed; the choice is final.
    await admin.admin.advanceClock.mutate({ days: 2 });
    expect((await day31.account.api.settings.shareAccountInfo.query()).canChange).toBe(false);
    expect(await refusal(day31.account.api.settings.setShareAccountInfo.mutate({ shareWithFacebook: false }))).toMatchObject({
      code: "CONFLICT",
      reason: "choice-window-closed",
    });
    await expectDecisionsMatch(day31);

    // 2016-09-27, the Hamburg order: from now on Germany shares nothing at all.
    await admin.admin.advanceClock.mutate({ days: 2 });
    expect(Object.values((await german.account.api.settings.decisions.query()).purposes).some(Boolean)).toBe(false);
    await expectDecisionsMatch(german);

    // The deadline has passed: the holdout can neither send nor receive...
    const holdoutTerms = await holdout.account.api.terms.current.query();
    expect(holdoutTerms).toMatchObject({ serviceAvailable: false, mustAccept: true });
    expect(await refusal(sendOpaque(holdout.account, ticked.account, 1))).toMatchObject({
      code: "FORBIDDEN",
      reason: "terms-not-accepted",
    });
    const ws = wsApi(messenger.url, holdout.account.credential);
    const streamError = await new Promise<TRPCClientError<never>>((resolve) =>
      ws.api.inbox.stream.subscribe(undefined, { onError: (e) => resolve(e as TRPCClientError<never>) }),
    );
    expect(streamError.data).toMatchObject({ code: "FORBIDDEN", reason: "terms-not-accepted" });
    ws.close();
    // ...but what others send meanwhile is kept for it.
    const [kept] = await sendOpaque(ticked.account, holdout.account, 1);

    // Accepting late restores service, and the queued message arrives.
    await accept(holdout, true);
    expect((await holdout.account.api.terms.current.query()).serviceAvailable).toBe(true);
    const ws2 = wsApi(messenger.url, holdout.account.credential);
    const delivered = await new Promise<DeliveredEnvelope>((resolve) =>
      ws2.api.inbox.stream.subscribe(undefined, { onData: (e) => resolve(e.data as DeliveredEnvelope) }),
    );
    expect(delivered.messageId).toBe(kept);
    ws2.close();
    await expectDecisionsMatch(holdout);

    // A user registering after the change has no choice at all.
    const newcomer = await existing();
    const terms = await newcomer.account.api.terms.current.query();
    expect(terms).toMatchObject({ shareBox: "none", serviceAvailable: false });
    expect(await refusal(newcomer.account.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: false }))).toMatchObject({
      reason: "no-choice-for-new-users",
    });
    expect((await accept(newcomer, true)).share).toMatchObject({ method: "not-offered" });
    expect(await refusal(newcomer.account.api.settings.setShareAccountInfo.mutate({ shareWithFacebook: false }))).toMatchObject({
      reason: "no-choice-for-new-users",
    });
    await expectDecisionsMatch(newcomer);

    // Every choice is in the append-only history, with its policy version.
    const { sql } = messenger.server.services;
    const history = await sql<{ kind: string; policy_version: string }[]>`
      select kind, policy_version from consent_events
      where account_id in ${sql([day29.account.accountId, holdout.account.accountId, newcomer.account.accountId])}
      order by id`;
    expect(history).toEqual([
      { kind: "terms-accepted", policy_version: "2016-08-25" },
      { kind: "share-opted-out", policy_version: "2016-08-25" },
      { kind: "terms-accepted", policy_version: "2016-08-25" },
      { kind: "terms-accepted", policy_version: "2016-08-25" },
    ]);
    await expect(sql`update consent_events set share_with_facebook = true`).rejects.toThrow(/append-only/);
    await expect(sql`delete from consent_events`).rejects.toThrow(/append-only/);
  });
});

describe("business messaging choices", () => {
  it("transactional delivered, marketing refused after the opt-out, everything refused after a block, delivered after unblock", async () => {
    const airline = await registerAccount(messenger.url, { business: "Acme Air" });
    const customer = await registerAccount(messenger.url);
    for (const account of [airline, customer]) {
      await account.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true }).catch(() => undefined);
    }
    const send = (category: { kind: "transactional"; topic: "flight-status" | "receipt" } | { kind: "marketing" }) =>
      airline.api.message.send.mutate({
        messageId: randomUUID(),
        recipient: { accountId: customer.accountId },
        type: 1,
        content: Buffer.from("encrypted elsewhere").toString("base64"),
        category,
      });
    const stored = async () =>
      (
        await messenger.server.services.sql<{ category: string }[]>`
          select category from envelopes where sender_account_id = ${airline.accountId} order by id`
      ).map((r) => r.category);

    await send({ kind: "transactional", topic: "flight-status" });
    await send({ kind: "marketing" });
    expect(await stored()).toEqual(["transactional:flight-status", "marketing"]);

    await customer.api.business.marketing.mutate({ businessId: airline.accountId, receive: false });
    expect(await refusal(send({ kind: "marketing" }))).toMatchObject({ code: "FORBIDDEN", reason: "marketing-opted-out" });
    await send({ kind: "transactional", topic: "receipt" });
    expect(await stored()).toEqual(["transactional:flight-status", "marketing", "transactional:receipt"]);

    await customer.api.business.block.mutate({ businessId: airline.accountId });
    expect(await refusal(send({ kind: "transactional", topic: "flight-status" }))).toMatchObject({
      code: "FORBIDDEN",
      reason: "business-blocked",
      message: expect.stringMatching(/blocked/),
    });
    expect(await refusal(send({ kind: "marketing" }))).toMatchObject({ reason: "business-blocked" });
    expect((await stored()).length).toBe(3); // refused messages left nothing behind

    await customer.api.business.unblock.mutate({ businessId: airline.accountId });
    await send({ kind: "transactional", topic: "flight-status" });
    expect(await refusal(send({ kind: "marketing" }))).toMatchObject({ reason: "marketing-opted-out" });
    expect((await stored()).length).toBe(4);
    expect(await customer.api.business.choice.query({ businessId: airline.accountId })).toMatchObject({
      blocked: false,
      marketingOptOut: true,
    });

    // The category reaches the recipient in cleartext metadata.
    const ws = wsApi(messenger.url, customer.credential);
    const first = await new Promise<DeliveredEnvelope>((resolve) =>
      ws.api.inbox.stream.subscribe(undefined, { onData: (e) => resolve(e.data as DeliveredEnvelope) }),
    );
    expect(first.category).toBe("transactional:flight-status");
    ws.close();

    const history = await messenger.server.services.sql<{ kind: string }[]>`
      select kind from consent_events where account_id = ${customer.accountId} and business_account_id is not null order by id`;
    expect(history.map((h) => h.kind)).toEqual(["marketing-opted-out", "business-blocked", "business-unblocked"]);
  });

  it("the marketing opt-out can be undone; every announced topic is delivered; a transactional message that was marketing can be reported", async () => {
    const bank = await registerAccount(messenger.url, { business: "Hanse Bank" });
    const customer = await registerAccount(messenger.url);
    const other = await registerAccount(messenger.url);
    for (const account of [bank, customer, other]) {
      await account.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true }).catch(() => undefined);
    }
    const send = async (category: Parameters<typeof bank.api.message.send.mutate>[0]["category"], to = customer) => {
      const messageId = randomUUID();
      await bank.api.message.send.mutate({
        messageId,
        recipient: { accountId: to.accountId },
        type: 1,
        content: Buffer.from("encrypted elsewhere").toString("base64"),
        category,
      });
      return messageId;
    };
    for (const topic of ["reservation", "appointment", "order", "delivery", "flight-status", "bank-alert"] as const) {
      await send({ kind: "transactional", topic });
    }
    expect(await refusal(send({ kind: "transactional", topic: "newsletter" as "order" }))).toMatchObject({ code: "BAD_REQUEST" });

    // Opt out, then back in: marketing arrives again; both choices are recorded.
    await customer.api.business.marketing.mutate({ businessId: bank.accountId, receive: false });
    expect(await refusal(send({ kind: "marketing" }))).toMatchObject({ reason: "marketing-opted-out" });
    expect(await customer.api.business.marketing.mutate({ businessId: bank.accountId, receive: true })).toMatchObject({
      marketingOptOut: false,
    });
    const marketing = await send({ kind: "marketing" });
    const history = await messenger.server.services.sql<{ kind: string }[]>`
      select kind from consent_events where account_id = ${customer.accountId} and business_account_id = ${bank.accountId} order by id`;
    expect(history.map((h) => h.kind)).toEqual(["marketing-opted-out", "marketing-opted-in"]);
    // The recorded state says so too.
    expect(await customer.api.business.choice.query({ businessId: bank.accountId })).toMatchObject({ marketingOptOut: false });

    // A "bank alert" that was an offer: reported once; marketing or someone else's message cannot be reported.
    const disguised = await send({ kind: "transactional", topic: "bank-alert" });
    const report = { businessId: bank.accountId, messageId: disguised };
    expect(await customer.api.business.reportMarketing.mutate(report)).toMatchObject({ declaredCategory: "transactional:bank-alert" });
    expect(await refusal(customer.api.business.reportMarketing.mutate(report))).toMatchObject({ code: "CONFLICT" });
    expect(await refusal(other.api.business.reportMarketing.mutate(report))).toMatchObject({ code: "NOT_FOUND" });
    expect(await refusal(customer.api.business.reportMarketing.mutate({ businessId: bank.accountId, messageId: marketing }))).toMatchObject({
      code: "BAD_REQUEST",
    });
    expect(await refusal(customer.api.business.reportMarketing.mutate({ businessId: bank.accountId, messageId: "nope" }))).toMatchObject({
      code: "BAD_REQUEST",
    });

    const stats = await bank.api.business.stats.query();
    expect(stats).toMatchObject({
      marketingOptedOut: 0,
      blocked: 0,
      reportedAsMarketing: { "transactional:bank-alert": 1 },
      sentByCategory: { marketing: 1, "transactional:bank-alert": 2, "transactional:reservation": 1 },
    });
    expect(stats.reportRate).toBeCloseTo(1 / 7);
    expect(await refusal(customer.api.business.stats.query())).toMatchObject({ code: "FORBIDDEN" });
  });
});

describe("bad input to consent and admin procedures", () => {
  it("refuses unknown policy versions and choices out of order", async () => {
    const user = await registerAccount(messenger.url);
    expect(await refusal(user.api.terms.accept.mutate({ version: "2020-01-01", shareWithFacebook: true }))).toMatchObject({
      code: "BAD_REQUEST",
      reason: "unknown-policy-version",
    });
    expect(await refusal(user.api.terms.accept.mutate({ version: "2012-07-07", shareWithFacebook: true }))).toMatchObject({
      reason: "not-current-policy",
    });
    await user.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true });
    expect(await refusal(user.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true }))).toMatchObject({
      code: "CONFLICT",
      reason: "already-accepted",
    });
    const fresh = await registerAccount(messenger.url);
    expect(await refusal(fresh.api.settings.setShareAccountInfo.mutate({ shareWithFacebook: false }))).toMatchObject({
      reason: "terms-not-accepted",
    });
    expect(
      await refusal(fresh.api.settings.setShareAccountInfo.mutate({ shareWithFacebook: true as false })),
    ).toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/irreversible/) });
  });

  it("refuses admin calls without the token or with a wrong one, and clock moves backwards", async () => {
    const anonymous = httpApi(messenger.url);
    expect(await refusal(anonymous.admin.advanceClock.mutate({ days: 1 }))).toMatchObject({ code: "UNAUTHORIZED" });
    const wrong = httpApi(messenger.url, undefined, "x".repeat(27));
    expect(await refusal(wrong.admin.setClock.mutate({ at: "2030-01-01T00:00:00Z" }))).toMatchObject({
      code: "UNAUTHORIZED",
      message: "wrong admin token",
    });
    expect(await refusal(admin.admin.setClock.mutate({ at: "2016-01-01T00:00:00Z" }))).toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/only moves forward/),
    });
    expect(await refusal(admin.admin.setClock.mutate({ at: "yesterday" }))).toMatchObject({ code: "BAD_REQUEST" });
    expect(await refusal(admin.admin.advanceClock.mutate({}))).toMatchObject({ code: "BAD_REQUEST" });
  });

  it("refuses a business category forged by a personal account, and a business message without one", async () => {
    const person = await registerAccount(messenger.url);
    const shop = await registerAccount(messenger.url, { business: "Corner Shop" });
    const other = await registerAccount(messenger.url);
    for (const account of [person, shop, other]) {
      await account.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true }).catch(() => undefined);
    }
    const message = (category?: { kind: "marketing" }) => ({
      messageId: randomUUID(),
      recipient: { accountId: other.accountId },
      type: 1 as const,
      content: "AAAA",
      ...(category ? { category } : {}),
    });
    expect(await refusal(person.api.message.send.mutate(message({ kind: "marketing" })))).toMatchObject({
      code: "BAD_REQUEST",
      reason: "not-a-business",
    });
    expect(await refusal(shop.api.message.send.mutate(message()))).toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/must declare a category/),
    });
    expect(await refusal(other.api.business.block.mutate({ businessId: person.accountId }))).toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/not a business/),
    });
    expect(await refusal(other.api.business.block.mutate({ businessId: randomUUID() }))).toMatchObject({ code: "NOT_FOUND" });
    const rows = await messenger.server.services.sql`select 1 from envelopes where recipient_account_id = ${other.accountId}`;
    expect(rows.length).toBe(0);
  });
});
