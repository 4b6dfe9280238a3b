/**
 * The demo's second chapter, the handshake itself: Alice accepts WhatsApp's 2016
 * terms leaving the share box ticked, Bob unticks it. Then, read from the Facebook
 * side's own API (never from the messenger): what reached Facebook for each and for
 * which purposes, Alice's friend suggestion and ad, and Bob's none — beside the
 * ciphertext of their conversation, which never leaves the messenger.
 *
 * Facebook features used (apps/facebook): `profiles.upsert`, `accounts.view`,
 * `profiles.suggestions`, `advertisers.create`, `audiences.*`, `ads.serve`.
 * Facebook holds an old number for Alice and Bob (as it did for many people in
 * 2016), so it cannot link them by itself: Alice's profile is linked through the
 * name Carol and Dave saved her verified WhatsApp number under in the address books
 * they uploaded (apps/facebook/src/storage/name-links.ts), which her ticked box
 * allows; Bob's, whose box was unticked, is not.
 */
import { createHash, randomInt } from "node:crypto";
import { createTRPCClient, httpLink } from "@trpc/client";
import type { HandshakeDevice } from "@handshake/client";
import type { AppRouter as FacebookRouter } from "@handshake/facebook";
import type { AppRouter as MessengerRouter } from "@handshake/messenger";
import { bold, cyan, dim, type Print } from "./terminal";

/** Facebook shows an ad only from audiences of at least 100 (its default `audienceMinimum`); a margin over it. */
const CUSTOMERS = 120;
/** The date WhatsApp's new terms came out (the share box appears). */
const ANNOUNCED = new Date("2016-08-25T00:00:00Z");

export interface HandshakeOptions {
  /** The messenger's tRPC URL. */
  messengerUrl: string;
  /** The Facebook side's tRPC URL. */
  facebookUrl: string;
  /** The stack's admin token (both services take it as `x-admin-token`). */
  adminToken: string;
  alice: HandshakeDevice;
  bob: HandshakeDevice;
  /** A ciphertext each of them sent in the conversation (base64), shown beside what Facebook holds. */
  ciphertexts: { alice?: string | undefined; bob?: string | undefined };
  print: Print;
  /** How long to wait for the share events to reach Facebook. */
  timeoutMs?: number;
}

export interface HeldField {
  field: string;
  purposes: string[];
}

export interface PersonOutcome {
  /** What Facebook holds about the WhatsApp account, field by field. */
  held: HeldField[];
  linkedProfile: number | null;
  /** Facebook's audited uses of the account's data (feature: purpose), after the suggestion and the ad. */
  uses: string[];
  suggestions: string[];
  ad: { advertiserName: string; audienceName: string; viaWhatsapp: boolean } | null;
}

export interface HandshakeResult {
  /** The simulated time the terms were accepted at. */
  acceptedAt: string;
  alice: PersonOutcome;
  bob: PersonOutcome;
}

type Facebook = ReturnType<typeof createTRPCClient<FacebookRouter>>;

const phoneHash = (phone: string) => createHash("sha256").update(phone.slice(1), "utf8").digest("hex");
const hex = (base64: string) => Buffer.from(base64, "base64").toString("hex");

/** Polls until `check` returns a value, failing with `what` after `ms`. */
async function until<T>(what: string, ms: number, check: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A number nobody in the world holds: the country's prefix and random digits. */
const randomNumber = (prefix: string, digits: number) => `${prefix}${String(randomInt(10 ** digits)).padStart(digits, "0")}`;

export async function handshake(options: HandshakeOptions): Promise<HandshakeResult> {
  const { alice, bob, print } = options;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const headers = { "x-admin-token": options.adminToken };
  const facebook: Facebook = createTRPCClient<FacebookRouter>({ links: [httpLink({ url: options.facebookUrl, headers })] });
  const messenger = createTRPCClient<MessengerRouter>({ links: [httpLink({ url: options.messengerUrl, headers })] });
  // Profile ids far above any seeded world's (population indices), random per run.
  const base = 9_000_000_000_000 + randomInt(1_000_000) * 1_000;
  const ids = { alice: base, bob: base + 1, carol: base + 2, dave: base + 3 };
  const phones = { alice: alice.phoneNumber, bob: bob.phoneNumber, carol: randomNumber("+9191", 8), dave: randomNumber("+9192", 8) };

  print(`\n${bold("6. Facebook already knows them.")} Profiles (Facebook's own data, not WhatsApp's):`);
  const stale = await prepareProfiles(facebook, ids, phones);
  print(`   Alice  profile ${ids.alice}, with an old number (${stale.alice})   Bob  profile ${ids.bob}, with an old number (${stale.bob})`);
  print(`   Carol  profile ${ids.carol}, uploaded an address book with Alice's and Bob's current numbers, saved as "Alice Rao" and "Bob Mehta"`);
  print(`   Dave   profile ${ids.dave}, uploaded an address book with Alice's current number, saved as "Alice Rao"`);

  let now = new Date((await messenger.clock.now.query()).now);
  if (now < ANNOUNCED) {
    // The share box only exists from the announcement on; the demo moves the simulation clock there.
    now = new Date((await messenger.admin.setClock.mutate({ at: "2016-08-25T09:00:00.000Z" })).now);
    print(dim(`   (the simulation clock was before the new terms; moved to ${now.toISOString()})`));
  }

  print(`\n${bold("7. The new terms")} (simulated ${now.toISOString().slice(0, 16).replace("T", " ")}): "Share my WhatsApp account information with Facebook…"`);
  await alice.acceptTerms(true);
  print(`   alice accepts, leaving the box ${cyan("[x] ticked")}`);
  await bob.acceptTerms(false);
  print(`   bob   accepts, after ${cyan("[ ] unticking")} it`);

  // Both accounts' snapshots travel through the share outbox; wait until Facebook has them.
  const view = (whatsappAccountId: string) => facebook.accounts.view.query({ whatsappAccountId });
  await until("Alice's share event to reach Facebook (and link her profile through the address books)", timeoutMs, async () =>
    (await view(alice.accountId)).link ? true : null,
  );
  await until("Bob's share event to reach Facebook", timeoutMs, async () => ((await view(bob.accountId)).fields.length > 0 ? true : null));

  // An advertiser uploads its customer list (hashed numbers): Alice and Bob are on it, with 100 others.
  const customers = Array.from({ length: CUSTOMERS }, (_, i) => ({ id: base + 10 + i, phone: randomNumber("+9190", 8) }));
  await facebook.profiles.upsert.mutate({
    profiles: customers.map((c, i) => ({ id: c.id, name: `Customer ${i + 1}`, country: "IN", phoneNumber: c.phone, addressBook: [] })),
  });
  const { credential } = await facebook.advertisers.create.mutate({ name: "Goa Getaways" });
  const advertiser: Facebook = createTRPCClient<FacebookRouter>({
    links: [httpLink({ url: options.facebookUrl, headers: { authorization: `Bearer ${credential}` } })],
  });
  const { audienceId } = await advertiser.audiences.create.mutate({ name: "past travellers" });
  await advertiser.audiences.upload.mutate({
    audienceId,
    hashes: [alice.phoneNumber, bob.phoneNumber, ...customers.map((c) => c.phone)].map(phoneHash),
  });

  const outcome = async (accountId: string, profileId: number): Promise<PersonOutcome> => {
    const suggestions = await facebook.profiles.suggestions.query({ profileId });
    const served = (await facebook.ads.serve.mutate({ profileId })).served;
    const held = await view(accountId);
    return {
      held: held.fields.map((f) => ({ field: f.field, purposes: f.purposes })),
      linkedProfile: held.link?.profileId ?? null,
      uses: held.uses.map((u) => `${u.feature}: ${u.purpose}`),
      suggestions: suggestions.suggestions.map((s) => s.name),
      ad: served ? { advertiserName: served.advertiserName, audienceName: served.audienceName, viaWhatsapp: served.viaWhatsapp } : null,
    };
  };
  const result: HandshakeResult = {
    acceptedAt: now.toISOString(),
    alice: await outcome(alice.accountId, ids.alice),
    bob: await outcome(bob.accountId, ids.bob),
  };
  const { neverHeld } = await view(alice.accountId);

  print(`\n${bold("8. What reached Facebook")} ${dim("(read from the Facebook side's API, accounts.view)")}, beside what the messenger relayed:`);
  const people = [
    { name: "alice", person: result.alice, ciphertext: options.ciphertexts.alice },
    { name: "bob", person: result.bob, ciphertext: options.ciphertexts.bob },
  ];
  for (const { name, person, ciphertext } of people) {
    print(`   ${bold(name)}`);
    const lines = person.held.length > 0 ? person.held.map((f) => `${f.field.padEnd(16)} for ${f.purposes.join(", ")}`) : ["nothing"];
    const beside = ciphertext ? [`${cyan("their messages")} ciphertext only:`, dim(hex(ciphertext).slice(0, 48) + "…"), dim(`never at Facebook: ${neverHeld.join(", ")}`)] : [];
    for (let i = 0; i < Math.max(lines.length, beside.length); i++) {
      print(`     ${(lines[i] ?? "").padEnd(66)} ${beside[i] ?? ""}`);
    }
  }

  print(`\n${bold("9. What Facebook makes of it")} ${dim("(profiles.suggestions, ads.serve)")}:`);
  for (const { name, person } of people) {
    const suggestion = person.suggestions.length > 0 ? `people you may know: ${person.suggestions.join(", ")}` : "no friend suggestion from WhatsApp data";
    const ad = person.ad
      ? `ad from ${person.ad.advertiserName} ("${person.ad.audienceName}")${person.ad.viaWhatsapp ? ", matched through the WhatsApp number" : ""}`
      : "no ad: not in the advertiser's audience";
    print(`   ${name.padEnd(5)} ${person.linkedProfile ? `linked to profile ${person.linkedProfile}` : "not linked to a profile"}; ${suggestion}; ${ad}`);
    print(dim(`         Facebook's audit log of its uses: ${person.uses.length > 0 ? person.uses.join(", ") : "none"}`));
  }
  return result;
}

/**
 * Facebook's own data: Alice and Bob hold old numbers (so Facebook alone cannot link
 * them), Carol and Dave uploaded address books with their current ones, under the
 * names they saved them as. Returns the old numbers.
 */
async function prepareProfiles(
  facebook: Facebook,
  ids: { alice: number; bob: number; carol: number; dave: number },
  phones: { alice: string; bob: string; carol: string; dave: string },
): Promise<{ alice: string; bob: string }> {
  const old = (phone: string) => `+9170${phone.slice(-8)}`;
  const alice = { phone: phones.alice, name: "Alice Rao" };
  const bob = { phone: phones.bob, name: "Bob Mehta" };
  await facebook.profiles.upsert.mutate({
    profiles: [
      { id: ids.alice, name: alice.name, country: "IN", phoneNumber: old(phones.alice), addressBook: [] },
      { id: ids.bob, name: bob.name, country: "IN", phoneNumber: old(phones.bob), addressBook: [] },
      { id: ids.carol, name: "Carol", country: "IN", phoneNumber: phones.carol, addressBook: [alice, bob] },
      { id: ids.dave, name: "Dave", country: "IN", phoneNumber: phones.dave, addressBook: [alice] },
    ],
  });
  return { alice: old(phones.alice), bob: old(phones.bob) };
}
