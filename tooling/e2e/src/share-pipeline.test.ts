/**
 * The share pipeline across both services: what WhatsApp decides it may share
 * arrives on the Facebook side exactly, per regime; the outbox survives Facebook
 * being down; linking, suggestions and their withdrawal; spam signals back.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import {
  acceptTerms,
  newAccount,
  optOutInSettings,
  shareableFields,
  type ConsentState,
  type Regime,
  type SharedFields,
} from "@handshake/consent";
import { facebookAdmin, startPipeline, type MessengerApi, type Pipeline } from "./harness";

const ANNOUNCED = new Date("2016-08-25T00:00:00Z");
const USAGE_FIELDS = ["lastSeen", "messagesSentCount", "activeDaysCount"];
let pipeline: Pipeline | null = null;
afterEach(async () => {
  await pipeline?.close();
  pipeline = null;
});

interface Person {
  name: string;
  accountId: string;
  api: MessengerApi;
  state: ConsentState;
}

async function person(p: Pipeline, name: string, phoneNumber: string): Promise<Person> {
  const { accountId, api } = await p.register(phoneNumber);
  const [row] = await p.messenger.server.services.sql<{ created_at: Date; country: string }[]>`
    select created_at, country from accounts where id = ${accountId}`;
  return { name, accountId, api, state: newAccount({ registeredAt: row!.created_at, country: row!.country }) };
}

async function accept(who: Person, share: boolean, regime: Regime) {
  const result = await who.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: share });
  const next = acceptTerms(who.state, { version: "2016-08-25", shareWithFacebook: share, at: new Date(result.acceptedAt) }, { regime });
  if (!next.ok) throw new Error(next.refusal.message);
  who.state = next.state;
}

async function optOut(who: Person) {
  const result = await who.api.settings.setShareAccountInfo.mutate({ shareWithFacebook: false });
  const next = optOutInSettings(who.state, new Date(result.at));
  if (!next.ok) throw new Error(next.refusal.message);
  who.state = next.state;
}

async function sendSome(from: Person, to: Person, count: number) {
  await Promise.all(
    Array.from({ length: count }, () =>
      from.api.message.send.mutate({
        messageId: randomUUID(),
        recipient: { accountId: to.accountId },
        type: 1,
        content: Buffer.from("opaque").toString("base64"),
      }),
    ),
  );
}

/** What Facebook holds per account: field -> purposes. */
async function heldByFacebook(p: Pipeline) {
  const rows = await p.facebook!.server.services.sql<{ whatsapp_account_id: string; field: string; purposes: string[] }[]>`
    select whatsapp_account_id, field, purposes from shared_data`;
  const held = new Map<string, Record<string, string[]>>();
  for (const row of rows) {
    const fields = held.get(row.whatsapp_account_id) ?? {};
    fields[row.field] = row.purposes;
    held.set(row.whatsapp_account_id, fields);
  }
  return held;
}

const purposesOnly = (fields: SharedFields | ReturnType<typeof shareableFields>) =>
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Array.isArray(v) ? v : (v as { purposes: string[] }).purposes]));

describe.each(["optout-2016", "optin", "eu-pause-2016", "de-ban-2016"] as const)("a rollout under %s", (regime) => {
  it("gives Facebook exactly the data and purposes the consent rules allow", async () => {
    const p = (pipeline = await startPipeline({ regime }));
    const people = {
      ticked: await person(p, "IN ticked", "+919800000001"),
      unticked: await person(p, "IN unticked", "+919800000002"),
      later: await person(p, "IN opts out later", "+919800000003"),
      german: await person(p, "DE ticked", "+4915100000004"),
      french: await person(p, "FR ticked", "+33612345678"),
      holdout: await person(p, "IN never accepts", "+919800000006"),
    };
    await p.admin.admin.setClock.mutate({ at: new Date(ANNOUNCED.getTime() + 3600_000).toISOString() });
    await accept(people.ticked, true, regime);
    await accept(people.unticked, false, regime);
    await accept(people.later, true, regime);
    await accept(people.german, true, regime);
    await accept(people.french, true, regime);
    await p.admin.admin.advanceClock.mutate({ days: 5 });
    await optOut(people.later);
    const newcomer = await person(p, "BR new user", "+5511987650007");
    await accept(newcomer, true, regime);
    await sendSome(people.ticked, people.unticked, 3);
    await sendSome(newcomer, people.ticked, 2);

    await p.messenger.server.services.share.shipper!.drained();
    const held = await heldByFacebook(p);
    const now = p.messenger.server.services.clock.now();
    const everyone = [...Object.values(people), newcomer];
    const senders = new Set([people.ticked.accountId, newcomer.accountId]);
    for (const who of everyone) {
      const expected = purposesOnly(shareableFields(who.state, now, regime));
      // Usage counters exist only for accounts that sent something: nothing to share otherwise.
      if (!senders.has(who.accountId)) for (const usage of USAGE_FIELDS) delete expected[usage];
      expect(held.get(who.accountId) ?? {}, `${who.name} under ${regime}`).toEqual(expected);
    }
    // Facebook holds nothing about anyone else.
    expect([...held.keys()].every((id) => everyone.some((who) => who.accountId === id))).toBe(true);

    // Spot checks of the regimes themselves.
    const choice = (fields: Record<string, string[]> | undefined) =>
      Object.values(fields ?? {}).some((purposes) => purposes.includes("ads") || purposes.includes("product"));
    if (regime === "de-ban-2016") expect(held.size).toBe(0);
    if (regime === "eu-pause-2016") expect([...held.values()].some(choice)).toBe(false);
    if (regime === "optout-2016") {
      expect(choice(held.get(people.ticked.accountId))).toBe(true);
      expect(choice(held.get(people.unticked.accountId))).toBe(false);
      expect(held.get(people.unticked.accountId)?.phoneNumber).toEqual(["metrics", "security", "spam"]);
      expect(choice(held.get(people.later.accountId))).toBe(false);
    }
    if (regime === "optin") expect(choice(held.get(people.ticked.accountId))).toBe(true);
    expect(held.has(people.holdout.accountId)).toBe(false);

    const [phone] = await p.facebook!.server.services.sql<{ value: string }[]>`
      select value #>> '{}' as value from shared_data where whatsapp_account_id = ${people.ticked.accountId} and field = 'phoneNumber'`;
    if (regime !== "de-ban-2016") expect(phone?.value).toBe("+919800000001");
  });
});

describe("the outbox and the shipper", () => {
  it("keeps events while Facebook is down, drains them when it is up, and never applies one twice", async () => {
    const p = (pipeline = await startPipeline({ regime: "optout-2016", facebookUp: false }));
    const people = await Promise.all([1, 2, 3, 4, 5].map((i) => person(p, `user ${i}`, `+91980000010${i}`)));
    await p.admin.admin.setClock.mutate({ at: new Date(ANNOUNCED.getTime() + 3600_000).toISOString() });
    for (const [i, who] of people.entries()) await accept(who, i % 2 === 0, "optout-2016");
    await sendSome(people[0]!, people[1]!, 5);

    const shipper = p.messenger.server.services.share.shipper!;
    await expect.poll(async () => (await shipper.status()).consecutiveFailures, { timeout: 10_000 }).toBeGreaterThan(0);
    // While Facebook is down the shipper alternates between probing ("shipping") and
    // waiting ("backing-off"): wait for a moment it is backing off, then read that status.
    let down = await shipper.status();
    await expect
      .poll(async () => (down = await shipper.status()).state, { timeout: 10_000, interval: 20 })
      .toBe("backing-off");
    expect(down.pending).toBeGreaterThanOrEqual(5);
    expect(down.consecutiveFailures).toBeGreaterThan(0);
    expect(down.lastError).toBeTruthy();

    await p.startFacebook();
    await shipper.drained();
    const { sql: messengerSql } = p.messenger.server.services;
    const facebookSql = () => p.facebook!.server.services.sql;
    const [outboxRow] = await messengerSql<{ outbox: number }[]>`select count(*)::int as outbox from share_outbox`;
    const outbox = outboxRow!.outbox;
    const count = async () => (await facebookSql()<{ n: number }[]>`select count(*)::int as n from ingested_events`)[0]!.n;
    expect(await count()).toBe(outbox);
    const before = await heldByFacebook(p);

    // Facebook restarts while more changes happen.
    await p.stopFacebook();
    await optOut(people[0]!);
    await p.startFacebook();
    await shipper.drained();
    expect(await count()).toBe(outbox + 1);

    // The shipper crashed after sending but before marking: everything is sent again.
    await messengerSql`update share_outbox set shipped_at = null`;
    await shipper.drained();
    expect(await count()).toBe(outbox + 1);
    const after = await heldByFacebook(p);
    expect(after.get(people[1]!.accountId)).toEqual(before.get(people[1]!.accountId));
    const expectedFirst = purposesOnly(shareableFields(people[0]!.state, p.messenger.server.services.clock.now(), "optout-2016"));
    expect(after.get(people[0]!.accountId)).toEqual(expectedFirst);
    expect((await shipper.status()).lagMs).toBe(0);
  });
});

describe("linking, suggestions and withdrawal", () => {
  it("links a shared number to its profile, suggests from it, and forgets both after a ban", async () => {
    const p = (pipeline = await startPipeline({ regime: "optout-2016" }));
    const fb = facebookAdmin(p.facebook!.url);
    await fb.profiles.upsert.mutate({
      profiles: [
        { id: 1, name: "Asha", country: "IN", phoneNumber: "+919800000201" },
        { id: 2, name: "Ravi", country: "IN", phoneNumber: null, addressBook: ["+919800000201"] },
        { id: 3, name: "Meera", country: "IN", phoneNumber: "+919800000999", addressBook: ["+919800000201", "+919800000202"] },
        { id: 4, name: "Bilal", country: "IN", phoneNumber: "+919800000202" },
      ],
    });
    const asha = await person(p, "Asha", "+919800000201");
    const bilal = await person(p, "Bilal", "+919800000202");
    await p.admin.admin.setClock.mutate({ at: new Date(ANNOUNCED.getTime() + 3600_000).toISOString() });
    await accept(asha, true, "optout-2016");
    await accept(bilal, false, "optout-2016"); // unticked: no ads, no product
    await p.messenger.server.services.share.shipper!.drained();

    const sql = p.facebook!.server.services.sql;
    const links = await sql<{ whatsapp_account_id: string; profile_id: string }[]>`select whatsapp_account_id, profile_id from links`;
    expect(links.map((l) => [l.whatsapp_account_id, Number(l.profile_id)])).toEqual([[asha.accountId, 1]]);
    const forAsha = await fb.profiles.suggestions.query({ profileId: 1 });
    expect(forAsha.suggestions.map((s) => s.profileId)).toEqual([2, 3]);
    expect((await fb.profiles.suggestions.query({ profileId: 4 })).suggestions).toEqual([]);
    const uses = await sql<{ whatsapp_account_id: string; feature: string; purpose: string }[]>`
      select whatsapp_account_id, feature, purpose from audit_log order by id`;
    expect(uses).toEqual([
      { whatsapp_account_id: asha.accountId, feature: "link", purpose: "product" },
      { whatsapp_account_id: asha.accountId, feature: "suggestion", purpose: "product" },
    ]);
    const view = await fb.accounts.view.query({ whatsappAccountId: asha.accountId });
    expect(view.link?.profileId).toBe(1);
    expect(view.neverHeld).toContain("message content");

    // A regulator's ban: a new snapshot for every account, and Facebook deletes what it held.
    const switched = await p.admin.share.setRegime.mutate({ regime: "de-ban-2016" });
    expect(switched.events).toBe(2);
    await p.messenger.server.services.share.shipper!.drained();
    expect((await sql`select 1 from shared_data`).length).toBe(0);
    expect((await sql`select 1 from links`).length).toBe(0);
    expect(await fb.profiles.suggestions.query({ profileId: 1 })).toMatchObject({ suggestions: [], usedWhatsappData: false });
  });
});

describe("spam signals", () => {
  async function spamSetup(thresholds: { spamThrottlePerDay: number; spamSuspendPerDay: number }, share: boolean) {
    const p = (pipeline = await startPipeline({ regime: "optout-2016", ...thresholds }));
    const sender = await person(p, "sender", "+919800000301");
    const target = await person(p, "target", "+919800000303");
    await p.admin.admin.setClock.mutate({ at: new Date(ANNOUNCED.getTime() + 3600_000).toISOString() });
    await accept(sender, share, "optout-2016");
    await accept(target, true, "optout-2016");
    return { p, sender, target, restrictions: p.messenger.server.services.restrictions };
  }

  it("throttles an account that bursts past the daily mark", async () => {
    const { p, sender, target, restrictions } = await spamSetup({ spamThrottlePerDay: 100, spamSuspendPerDay: 100_000 }, true);
    for (let i = 0; i < 2; i++) await sendSome(sender, target, 50);
    await p.messenger.server.services.share.shipper!.drained();
    await expect.poll(async () => (await restrictions.current(sender.accountId))?.action, { timeout: 10_000 }).toBe("throttle");
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => sendSome(sender, target, 1)));
    expect(outcomes.filter((o) => o.status === "rejected").length).toBe(3); // 5 allowed while throttled
    const checks = await p.facebook!.server.services.sql<{ purpose: string; feature: string }[]>`
      select distinct purpose, feature from audit_log where feature = 'spam-check'`;
    expect(checks).toEqual([{ purpose: "spam", feature: "spam-check" }]);
  });

  it("suspends a flooding account even when it opted out of ads and product (spam fighting continues)", async () => {
    const { p, sender, target, restrictions } = await spamSetup({ spamThrottlePerDay: 100_000, spamSuspendPerDay: 100 }, false);
    for (let i = 0; i < 2; i++) await sendSome(sender, target, 50);
    await p.messenger.server.services.share.shipper!.drained();
    await expect.poll(async () => (await restrictions.current(sender.accountId))?.action, { timeout: 10_000 }).toBe("suspend");
    await expect(sendSome(sender, target, 1)).rejects.toThrow(/suspended for spam/);
    await expect(sendSome(target, sender, 1)).resolves.toBeUndefined(); // others can still write to it
    const uses = await p.facebook!.server.services.sql<{ purpose: string }[]>`
      select distinct purpose from audit_log where whatsapp_account_id = ${sender.accountId}`;
    expect(uses.map((u) => u.purpose)).toEqual(["spam"]); // and nothing for ads or product
  });
});
