/**
 * A small 2016 rollout through the real messenger and the real Facebook side
 * (test-only): both databases are left behind for the audit to read. The
 * Facebook side follows the messenger's simulation clock, so its audit rows
 * carry simulated time.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createTRPCClient, httpLink, type TRPCClient } from "@trpc/client";
import type { AppRouter as FacebookRouter } from "@handshake/facebook";
import { startTestFacebook, TEST_FACEBOOK_ADMIN_TOKEN } from "@handshake/facebook/testing";
import type { AppRouter as MessengerRouter } from "@handshake/messenger";
import { startTestMessenger, TEST_ADMIN_TOKEN, TEST_SERVICE_TOKEN } from "@handshake/messenger/testing";
import { createTestDatabase, type TestDatabase } from "@handshake/db/testing";
import { rawClient } from "@handshake/db/client";

type MessengerApi = TRPCClient<MessengerRouter>;

function messengerClient(url: string, headers: Record<string, string>): MessengerApi {
  return createTRPCClient<MessengerRouter>({ links: [httpLink({ url, headers: () => headers })] });
}

function facebookClient(url: string, headers: Record<string, string>): TRPCClient<FacebookRouter> {
  return createTRPCClient<FacebookRouter>({ links: [httpLink({ url, headers: () => headers })] });
}

const ANNOUNCED = new Date("2016-08-25T00:00:00Z");
const HAMBURG_ORDER = new Date("2016-09-27T00:00:00Z");
const device = { os: "android", osVersion: "6.0.1", appVersion: "2.16.260", model: "SM-G920F" } as const;

/** The people of the rollout, by what they chose. */
export const PEOPLE = {
  /** India (optout-2016 throughout): kept the pre-ticked box. */
  inTicked: { phone: "+919810000001", profileId: 1 },
  /** India: unticked the box when accepting. */
  inUnticked: { phone: "+919810000002", profileId: 2 },
  /** India: accepted ticked, opted out in Settings ten days later. */
  inOptOut: { phone: "+919810000003", profileId: 3 },
  /** Brazil: unticked. */
  br: { phone: "+5511987650001", profileId: null },
  /** Germany: shared under optout-2016 until the Hamburg order (historical-2016 from 2016-09-27). */
  deTicked: { phone: "+4915110000001", profileId: 4 },
  /** Germany: unticked. */
  deUnticked: { phone: "+4915110000002", profileId: null },
  /** France: ticked; ads/product paused when historical-2016 comes in. */
  fr: { phone: "+33612000001", profileId: 5 },
  /** United States: ticked. */
  us: { phone: "+16502530001", profileId: null },
  /** India, registered after the change: no choice. */
  inNewcomer: { phone: "+919810000009", profileId: 6 },
  /** Germany, registered after the Hamburg order, under historical-2016 from the start. */
  deNewcomer: { phone: "+4915110000009", profileId: 8 },
} as const;

export type Person = keyof typeof PEOPLE;

export interface Rollout {
  messenger: TestDatabase;
  facebook: TestDatabase;
  accounts: Record<Person, string>;
  /** When the rollout ended (simulated). */
  endedAt: Date;
  drop(): Promise<void>;
}

/** Runs the rollout and closes both services; the two databases stay for the audit. */
export async function runRollout(): Promise<Rollout> {
  const messengerDb = await createTestDatabase("audit_messenger");
  const facebookDb = await createTestDatabase("audit_facebook");
  let simulated: { now(): Date } | null = null;
  const simStart = new Date("2016-08-20T08:00:00Z");
  const facebook = await startTestFacebook({
    serviceToken: TEST_SERVICE_TOKEN,
    clock: { now: () => simulated?.now() ?? simStart },
    databaseUrl: facebookDb.url,
    // A handful of people: let the advertiser see a (noised, bucketed) size at all.
    audienceMinimum: 1,
  });
  const messenger = await startTestMessenger({
    facebookUrl: facebook.url,
    regime: "optout-2016",
    simStart,
    rateLimits: false,
    databaseUrl: messengerDb.url,
  });
  simulated = messenger.server.services.clock;
  try {
    const admin = messengerClient(messenger.url, { "x-admin-token": TEST_ADMIN_TOKEN });
    const fbAdmin = facebookClient(facebook.url, { "x-admin-token": TEST_FACEBOOK_ADMIN_TOKEN });
    const drained = () => messenger.server.services.share.shipper!.drained(10_000);

    // Facebook's own people: some hold a WhatsApp user's number, some uploaded address books,
    // and some have ids equal to audience sizes (100, 1000, 2000, 10000) on purpose.
    const profiles = Object.values(PEOPLE).flatMap((p) =>
      p.profileId === null ? [] : [{ id: p.profileId, name: `Person ${p.profileId}`, country: "IN", phoneNumber: p.phone, addressBook: [] }],
    );
    await fbAdmin.profiles.upsert.mutate({
      profiles: [
        ...profiles,
        { id: 7, name: "Friend of 1", country: "IN", phoneNumber: "+919810000100", addressBook: [PEOPLE.inTicked.phone, PEOPLE.inOptOut.phone] },
        ...[100, 1000, 2000, 10000].map((id) => ({ id, name: `Size-like ${id}`, country: "US", phoneNumber: null, addressBook: [] })),
      ],
    });

    const apis = {} as Record<Person, MessengerApi>;
    const accounts = {} as Record<Person, string>;
    const register = async (person: Person) => {
      // Possession first: a code to the phone, read from the simulated phone network.
      const anonymous = messengerClient(messenger.url, {});
      const { sessionId } = await anonymous.account.requestCode.mutate({ phoneNumber: PEOPLE[person].phone });
      const { code } = await anonymous.phoneSimulator.readCode.query({ sessionId });
      const registered = await anonymous.account.register.mutate({ sessionId, code, device });
      accounts[person] = registered.accountId;
      apis[person] = messengerClient(messenger.url, { authorization: `Bearer ${registered.credential}` });
    };
    const send = async (from: Person, to: Person, count: number) => {
      for (let i = 0; i < count; i++) {
        await apis[from].message.send.mutate({
          messageId: randomUUID(),
          recipient: { accountId: accounts[to] },
          type: 1,
          // Opaque to the server: stands in for Signal ciphertext of realistic size.
          content: randomBytes(64 + 16 * i).toString("base64"),
        });
      }
    };
    const accept = (person: Person, shareWithFacebook: boolean) =>
      apis[person].terms.accept.mutate({ version: "2016-08-25", shareWithFacebook });

    const existing: Person[] = ["inTicked", "inUnticked", "inOptOut", "br", "deTicked", "deUnticked", "fr", "us"];
    for (const person of existing) await register(person);

    // 2016-08-25: the new terms, accepted with a mix of choices.
    await admin.admin.setClock.mutate({ at: new Date(ANNOUNCED.getTime() + 3_600_000).toISOString() });
    for (const person of ["inTicked", "inOptOut", "deTicked", "fr", "us"] as const) await accept(person, true);
    for (const person of ["inUnticked", "br", "deUnticked"] as const) await accept(person, false);
    await send("inTicked", "br", 3);
    await send("deTicked", "inTicked", 2);
    await send("fr", "us", 2);
    await drained();
    await fbAdmin.profiles.suggestions.query({ profileId: PEOPLE.inTicked.profileId });
    await fbAdmin.profiles.suggestions.query({ profileId: PEOPLE.deTicked.profileId });

    // Ten days later, inside the 30-day window: one opt-out in Settings.
    await admin.admin.advanceClock.mutate({ days: 10 });
    await apis.inOptOut.settings.setShareAccountInfo.mutate({ shareWithFacebook: false });
    await send("us", "fr", 1);
    await drained();
    await fbAdmin.profiles.suggestions.query({ profileId: PEOPLE.inOptOut.profileId });

    // The Hamburg order and the EU pause: historical-2016 from here on.
    await admin.admin.setClock.mutate({ at: HAMBURG_ORDER.toISOString() });
    await admin.share.setRegime.mutate({ regime: "historical-2016" });
    await drained();

    // New users after the change: no choice; a German one shares nothing at all.
    await register("inNewcomer");
    await accept("inNewcomer", true);
    await register("deNewcomer");
    await accept("deNewcomer", true);
    await admin.admin.advanceClock.mutate({ days: 1 });
    await send("inNewcomer", "deNewcomer", 2);
    await send("deNewcomer", "inNewcomer", 2);
    await send("deTicked", "fr", 1);
    await send("fr", "inTicked", 1);
    await drained();
    await fbAdmin.profiles.suggestions.query({ profileId: PEOPLE.inTicked.profileId });
    await fbAdmin.profiles.suggestions.query({ profileId: PEOPLE.inNewcomer.profileId });
    await fbAdmin.profiles.suggestions.query({ profileId: PEOPLE.fr.profileId });
    // Facebook's number for person 1 changes after the link: only WhatsApp's number still matches it now.
    await fbAdmin.profiles.upsert.mutate({
      profiles: [{ id: PEOPLE.inTicked.profileId, name: "Person 1", country: "IN", phoneNumber: "+919810000111", addressBook: [] }],
    });
    await advertise(facebook.url, fbAdmin);
    const endedAt = messenger.server.services.clock.now();
    await addResponseShapes(facebookDb.url, endedAt);
    return {
      messenger: messengerDb,
      facebook: facebookDb,
      accounts,
      endedAt,
      drop: async () => {
        await messengerDb.drop();
        await facebookDb.drop();
      },
    };
  } finally {
    await messenger.close();
    await facebook.close();
  }
}

/**
 * An advertiser through the real Custom Audiences API: uploads the hashed numbers
 * of people on both sides (some shared for ads, some not, one German), reads the
 * audience back, makes a few mistakes; ads are served. Every response it gets is
 * in advertiser_api_log.
 */
async function advertise(facebookUrl: string, fbAdmin: TRPCClient<FacebookRouter>): Promise<void> {
  const { credential } = await fbAdmin.advertisers.create.mutate({ name: "Acme Ads" });
  const advertiser = facebookClient(facebookUrl, { authorization: `Bearer ${credential}` });
  const { audienceId } = await advertiser.audiences.create.mutate({ name: "customers" });
  const phones = [...Object.values(PEOPLE).map((p) => p.phone), "+919810000100"];
  const hashes = phones.map((phone) => createHash("sha256").update(phone.slice(1)).digest("hex"));
  for (let i = 0; i < 40; i++) hashes.push(randomBytes(32).toString("hex"));
  await advertiser.audiences.upload.mutate({ audienceId, hashes });
  await advertiser.audiences.get.query({ audienceId });
  await advertiser.audiences.list.query();
  await advertiser.audiences.upload.mutate({ audienceId, hashes: ["not-a-hash"] }).catch(() => undefined);
  await advertiser.audiences.get.query({ audienceId: randomUUID() }).catch(() => undefined);
  for (const profileId of [PEOPLE.inTicked.profileId, PEOPLE.inOptOut.profileId, PEOPLE.fr.profileId, 7]) {
    await fbAdmin.ads.serve.mutate({ profileId });
  }
  await advertiser.ads.impressions.query();
}

/**
 * Response shapes whose numbers collide with profile ids on purpose (profiles
 * 100, 1000, 2000 and 10000 exist): sizes, bounds and counts must not be taken
 * for profile ids.
 */
async function addResponseShapes(facebookUrl: string, at: Date): Promise<void> {
  const sql = rawClient(facebookUrl, { max: 1 });
  try {
    const advertiserId = randomUUID();
    const audienceId = randomUUID();
    const responses = [
      { data: { audienceId, name: "customers", uploadedRows: 10000, status: "ready", createdAt: at.toISOString() } },
      { data: { audienceId, sizeRange: { lower: 1000, upper: 2000 }, approximateSize: [1000, 2000], updatedAt: at.toISOString() } },
      { data: { audienceId, approximateSize: "too small", minimum: 100 } },
      { error: { code: "BAD_REQUEST", message: "at most 10000 hashes per call, got 10001" } },
      { data: { advertiserId, audiences: [{ id: audienceId, uploadedRows: 10000 }] } },
    ];
    for (const response of responses) {
      await sql`insert into advertiser_api_log (advertiser_id, path, response) values (${advertiserId}, 'audiences.get', ${sql.json(response)})`;
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}
