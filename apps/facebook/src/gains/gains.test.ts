/**
 * What Facebook gains from WhatsApp's data, against a real server and PostgreSQL:
 * profiles with a stale number or none link only through the shared number (and the
 * name address books saved it under), only while it may serve `product`; audience
 * match rates with and without WhatsApp; suggestions; device targeting only under
 * `ads`; and what withdrawals take away, per regime.
 */
import { randomUUID } from "node:crypto";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import type { Purpose, ShareEvent } from "@handshake/consent";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashNormalisedPhone } from "../audiences/normalise";
import type { AppRouter } from "../root";
import { startTestFacebook, TEST_FACEBOOK_ADMIN_TOKEN, type TestFacebook } from "../testing";
import { shareEvent } from "../../test/share-events";

const SERVICE_TOKEN = "test-service-token-gains-012345678";
const ALL: Purpose[] = ["ads", "product", "metrics", "security", "spam"];
const UNTICKED: Purpose[] = ["metrics", "security", "spam"];

let facebook: TestFacebook;
let sql: postgres.Sql;
const client = (headers: Record<string, string>) => createTRPCClient<AppRouter>({ links: [httpLink({ url: facebook.url, headers })] });
const admin = () => client({ "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN });
const service = () => client({ authorization: `Bearer ${SERVICE_TOKEN}` });

beforeAll(async () => {
  facebook = await startTestFacebook({ serviceToken: SERVICE_TOKEN });
  sql = postgres(facebook.databaseUrl, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await facebook?.close();
});

/** A snapshot as the shipper sends it: number, country and device, each for `purposes` (as the catalogue allows). */
function snapshot(account: string, phone: string, country: string, purposes: Purpose[], sequence: number, device = "Galaxy J5"): ShareEvent {
  const only = (allowed: Purpose[]) => purposes.filter((p) => allowed.includes(p));
  const fields: ShareEvent["fields"] = {};
  if (purposes.length > 0) fields.phoneNumber = { value: phone, purposes };
  if (only(["ads", "product", "metrics", "spam"]).length > 0) fields.country = { value: country, purposes: only(["ads", "product", "metrics", "spam"]) };
  if (only(["ads", "metrics"]).length > 0) fields.deviceModel = { value: device, purposes: only(["ads", "metrics"]) };
  return shareEvent(account, fields, sequence);
}

const linkOf = async (account: string) =>
  (await sql<{ profile_id: string; linked_by: string }[]>`select profile_id, linked_by from links where whatsapp_account_id = ${account}`)[0] ?? null;

let nextId = 1_000;
/** A person whose WhatsApp number is `phone` and whose Facebook profile holds `held` (stale, null, or the number itself). */
async function person(name: string, country: string, phone: string, held: string | null) {
  const id = nextId++;
  await admin().profiles.upsert.mutate({ profiles: [{ id, name, country, phoneNumber: held }] });
  return { id, name, country, phone, account: randomUUID() };
}
/** Someone who uploaded an address book saving each number under a name. */
async function uploader(country: string, book: { phone: string; name: string }[], phone: string | null = null) {
  const id = nextId++;
  await admin().profiles.upsert.mutate({ profiles: [{ id, name: `Uploader ${id}`, country, phoneNumber: phone, addressBook: book }] });
  return id;
}

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) return error.data?.code as string;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("linking a profile with a stale number", () => {
  it("links only through the WhatsApp number, only while it may serve `product`, and unlinks on opt-out and on a ban", async () => {
    const asha = await person("Asha Rao", "IN", "+919100000001", "+919199999901"); // stale
    const book = await uploader("IN", [{ phone: asha.phone, name: "Asha Rao" }]);
    // Facebook alone cannot: the profile's number is nobody's current one.
    expect(await sql`select 1 from profiles where phone_number = ${asha.phone}`).toHaveLength(0);

    // Unticked box: the number arrives for spam/metrics only, nothing links.
    await service().ingest.batch.mutate({ events: [snapshot(asha.account, asha.phone, "IN", UNTICKED, 1)] });
    expect(await linkOf(asha.account)).toBeNull();

    // Shared for product: linked to the stale-number profile, by the name the book holds.
    await service().ingest.batch.mutate({ events: [snapshot(asha.account, asha.phone, "IN", ALL, 2)] });
    expect(await linkOf(asha.account)).toEqual({ profile_id: String(asha.id), linked_by: "name" });
    expect(await sql`select datum, purpose from audit_log where whatsapp_account_id = ${asha.account} and feature = 'link' order by datum`).toEqual([
      { datum: "country", purpose: "product" },
      { datum: "phoneNumber", purpose: "product" },
    ]);
    expect((await admin().profiles.suggestions.query({ profileId: asha.id })).suggestions.map((s) => s.profileId)).toEqual([book]);

    // Opt-out in Settings: the link goes, and the loss is counted (without naming anyone).
    await service().ingest.batch.mutate({ events: [snapshot(asha.account, asha.phone, "IN", UNTICKED, 3)] });
    expect(await linkOf(asha.account)).toBeNull();
    expect(await admin().profiles.suggestions.query({ profileId: asha.id })).toMatchObject({ suggestions: [], usedWhatsappData: false });
    const [lost] = await sql<{ links: number }[]>`select sum(links)::int as links from withdrawal_losses where country = 'IN' and linked_by = 'name'`;
    expect(lost!.links).toBe(1);

    // A later grant links again; a regulator's ban (nothing shared) unlinks.
    await service().ingest.batch.mutate({ events: [snapshot(asha.account, asha.phone, "IN", ALL, 4)] });
    expect(await linkOf(asha.account)).toMatchObject({ linked_by: "name" });
    await service().ingest.batch.mutate({ events: [snapshot(asha.account, asha.phone, "IN", [], 5)] });
    expect(await linkOf(asha.account)).toBeNull();
  });

  it("links nobody when the name is ambiguous, the profile is taken, or the country differs", async () => {
    const dev = await person("Dev Shah", "IN", "+919100000011", null);
    await person("Dev Shah", "IN", "+919100000012", null); // a namesake without a number
    const lina = await person("Lina Park", "KR", "+821012345678", null);
    await uploader("IN", [
      { phone: dev.phone, name: "Dev Shah" },
      { phone: lina.phone, name: "Lina Park" },
    ]);
    await service().ingest.batch.mutate({
      events: [snapshot(dev.account, dev.phone, "IN", ALL, 1), snapshot(lina.account, lina.phone, "BR", ALL, 1)],
    });
    expect(await linkOf(dev.account)).toBeNull();
    expect(await linkOf(lina.account)).toBeNull();
  });

  it("prefers the profile's own number, and never takes a profile whose number another WhatsApp account verified", async () => {
    const omar = await person("Omar Ali", "IN", "+919100000021", "+919100000021");
    const other = randomUUID(); // an account sharing a different number, saved as "Omar Ali" by someone
    await uploader("IN", [{ phone: "+919100000022", name: "Omar Ali" }]);
    await service().ingest.batch.mutate({ events: [snapshot(omar.account, omar.phone, "IN", ALL, 1), snapshot(other, "+919100000022", "IN", ALL, 1)] });
    expect(await linkOf(omar.account)).toEqual({ profile_id: String(omar.id), linked_by: "phone" });
    expect(await linkOf(other)).toBeNull();
  });
});

describe("gains", () => {
  it("measures the audience match-rate lift, extra suggestions and device targeting, with consent and without", async () => {
    // 30 people in BR: 20 whose profile holds their number, 10 with a stale one or none.
    const people = [];
    for (let i = 0; i < 30; i++) {
      const phone = `+55119${String(80_000_000 + i).padStart(8, "0")}`;
      const held = i < 20 ? phone : i % 2 === 0 ? `+55119${String(90_000_000 + i)}` : null;
      people.push(await person(`Pessoa Número ${i}`, "BR", phone, held));
    }
    await uploader("BR", people.map((p) => ({ phone: p.phone, name: p.name })));
    const stale = people.slice(20);
    const gainsBR = async () => (await admin().dashboard.gains.query({ regime: { base: "optout-2016", byCountry: { IN: "de-ban-2016" } } })).byRegime.find((r) => r.countries.includes("BR"))!;

    // Without WhatsApp data: no link, no WhatsApp match, no extra suggestion, no device.
    const { credential } = await admin().advertisers.create.mutate({ name: "Loja" });
    const advertiser = client({ authorization: `Bearer ${credential}` });
    const { audienceId } = await advertiser.audiences.create.mutate({ name: "clientes" });
    await advertiser.audiences.upload.mutate({ audienceId, hashes: people.map((p) => hashNormalisedPhone(p.phone.slice(1))) });
    const before = await gainsBR();
    expect(before).toMatchObject({ linkedByName: 0, extraSuggestions: 0, deviceTargetable: 0, audience: { ownMatches: 20, whatsappMatches: 0, lift: 1 } });
    const staleProfile = stale[0]!.id;
    expect(await refusal(admin().ads.deviceTarget.query({ profileId: staleProfile }))).toBe("FORBIDDEN");

    // All 30 share with the box ticked.
    await service().ingest.batch.mutate({ events: people.map((p) => snapshot(p.account, p.phone, "BR", ALL, 1, "iPhone 6s")) });
    await advertiser.audiences.upload.mutate({ audienceId, hashes: [hashNormalisedPhone("5511000000000")] }); // re-matches
    const withData = await gainsBR();
    expect(withData.linkedByPhone).toBe(20);
    expect(withData.linkedByName).toBe(10);
    expect(withData.audience).toEqual({ ownMatches: 20, whatsappMatches: 10, lift: 1.5 });
    expect(withData.extraSuggestions).toBe(10); // the uploader, for each stale profile (the others find it by their own number)
    expect(withData.deviceTargetable).toBe(30);
    expect(await admin().ads.deviceTarget.query({ profileId: staleProfile })).toEqual({ profileId: staleProfile, deviceModel: "iPhone 6s", platform: "iOS" });
    expect(await sql`select datum, purpose from audit_log where feature = 'device-target'`).toEqual([{ datum: "deviceModel", purpose: "ads" }]);
    const suggested = await admin().profiles.suggestions.query({ profileId: staleProfile });
    expect(suggested.usedWhatsappData).toBe(true);
    expect(suggested.suggestions).toHaveLength(1);

    // The stale ones untick in Settings: everything they brought goes, and is counted as lost.
    await service().ingest.batch.mutate({ events: stale.map((p) => snapshot(p.account, p.phone, "BR", UNTICKED, 2, "iPhone 6s")) });
    const after = await gainsBR();
    expect(after).toMatchObject({ linkedByPhone: 20, linkedByName: 0, extraSuggestions: 0, deviceTargetable: 20, audience: { ownMatches: 20, whatsappMatches: 0, lift: 1 } });
    expect(after.lost).toEqual({ links: 10, linksByName: 10, audienceMemberships: 10 });
    expect(await refusal(admin().ads.deviceTarget.query({ profileId: staleProfile }))).toBe("FORBIDDEN");
    expect(await admin().profiles.suggestions.query({ profileId: staleProfile })).toMatchObject({ suggestions: [], usedWhatsappData: false });
    expect(await sql`select 1 from audit_log where feature = 'device-target'`).toHaveLength(1);
  });

  it("refuses device targeting when the number may serve product but the device model not ads", async () => {
    const p = await person("Kofi Mensah", "GH", "+233241234567", "+233241234567");
    // product only (an `optin` user who said yes to friend suggestions, not to ads)
    await service().ingest.batch.mutate({
      events: [shareEvent(p.account, { phoneNumber: { value: p.phone, purposes: ["product"] }, deviceModel: { value: "Moto G", purposes: ["metrics"] } })],
    });
    expect(await linkOf(p.account)).toMatchObject({ linked_by: "phone" });
    expect(await refusal(admin().ads.deviceTarget.query({ profileId: p.id }))).toBe("FORBIDDEN");
  });

  it("groups by the regime each country is under", async () => {
    const gains = await admin().dashboard.gains.query({ regime: { base: "optout-2016", byCountry: { IN: "de-ban-2016" } } });
    const regimes = gains.byRegime.map((r) => r.regime).sort();
    expect(regimes).toEqual(["de-ban-2016", "optout-2016"]);
    expect(gains.byRegime.find((r) => r.regime === "de-ban-2016")!.countries).toEqual(["IN"]);
    const all = await admin().dashboard.gains.query({});
    expect(all.byRegime.map((r) => r.regime)).toEqual(["all"]);
    expect(all.audiences.matchRateWithWhatsapp).toBeGreaterThanOrEqual(all.audiences.matchRate!);
  });
});
