/**
 * The demo's handshake chapter against a real messenger and a real Facebook side
 * (share events shipped between them): after the conversation, Alice (box ticked)
 * reaches Facebook for ads and product, is linked, gets a friend suggestion and an
 * ad matched through her WhatsApp number; Bob (box unticked) reaches it for neither
 * and gets nothing; what is printed says so.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@handshake/db/embedded";
import { startTestFacebook, type TestFacebook } from "@handshake/facebook/testing";
import { startTestMessenger, TEST_ADMIN_TOKEN, TEST_SERVICE_TOKEN, type TestMessenger } from "@handshake/messenger/testing";
import { converse } from "./conversation";
import { handshake } from "./handshake";

let messenger: TestMessenger;
let facebook: TestFacebook;

beforeAll(async () => {
  const facebookPort = await freePort();
  // Before the announcement: the chapter must move the clock to it to show the share box.
  messenger = await startTestMessenger({ simStart: new Date("2016-08-22T00:00:00Z"), rateLimits: false, facebookUrl: `http://127.0.0.1:${facebookPort}/trpc` });
  facebook = await startTestFacebook({ port: facebookPort, serviceToken: TEST_SERVICE_TOKEN, adminToken: TEST_ADMIN_TOKEN });
});
afterAll(async () => {
  await messenger?.close();
  await facebook?.close();
});

const choicePurposes = (held: { purposes: string[] }[]) => [...new Set(held.flatMap((f) => f.purposes))].filter((p) => p === "ads" || p === "product");

describe("pnpm demo's handshake", () => {
  it("shows what reached Facebook for Alice (ticked) and Bob (unticked), Alice's suggestion and ad, Bob's none", async () => {
    const lines: string[] = [];
    const print = (line: string) => lines.push(line);
    const talk = await converse({ url: messenger.url, sql: messenger.server.services.sql, print });
    const result = await handshake({
      messengerUrl: messenger.url,
      facebookUrl: facebook.url,
      adminToken: TEST_ADMIN_TOKEN,
      alice: talk.alice,
      bob: talk.bob,
      ciphertexts: talk.sentBy,
      print,
    });
    expect(new Date(result.acceptedAt).getTime()).toBeGreaterThanOrEqual(Date.parse("2016-08-25T00:00:00Z"));

    expect(choicePurposes(result.alice.held).sort()).toEqual(["ads", "product"]);
    expect(result.alice.held.map((f) => f.field)).toContain("phoneNumber");
    expect(result.alice.linkedProfile).not.toBeNull();
    expect(result.alice.suggestions.sort()).toEqual(["Carol", "Dave"]);
    expect(result.alice.ad).toMatchObject({ advertiserName: "Goa Getaways", viaWhatsapp: true });

    expect(result.bob.held.length).toBeGreaterThan(0);
    expect(choicePurposes(result.bob.held)).toEqual([]);
    expect(result.bob.linkedProfile).toBeNull();
    expect(result.bob.suggestions).toEqual([]);
    expect(result.bob.ad).toBeNull();

    // Facebook's side agrees, from its database: Alice's number served a link, a suggestion and an ad;
    // Bob's data only the spam check the terms allow regardless of the box.
    const uses = async (accountId: string) =>
      new Set((await facebook.server.services.sql<{ use: string }[]>`
        select feature || ':' || purpose as use from audit_log where whatsapp_account_id = ${accountId}`).map((u) => u.use));
    const aliceUses = await uses(talk.alice.accountId);
    for (const use of ["link:product", "suggestion:product", "audience-match:ads", "ad:ads"]) expect(aliceUses).toContain(use);
    // Facebook held only an old number for Alice: the link came through the name her friends saved her current one under.
    const [link] = await facebook.server.services.sql<{ linked_by: string; phone_number: string | null }[]>`
      select l.linked_by, p.phone_number from links l join profiles p on p.id = l.profile_id
      where l.whatsapp_account_id = ${talk.alice.accountId}`;
    expect(link).toMatchObject({ linked_by: "name" });
    expect(link?.phone_number).not.toBe(talk.alice.phoneNumber);
    expect([...(await uses(talk.bob.accountId))].filter((u) => !u.endsWith(":spam"))).toEqual([]);
    expect(result.bob.uses.filter((u) => !u.endsWith(": spam"))).toEqual([]);

    const printed = lines.join("\n");
    expect(printed).toContain("8. What reached Facebook");
    expect(printed).toMatch(/alice .*people you may know: Carol, Dave; ad from Goa Getaways/);
    expect(printed).toMatch(/bob +not linked to a profile; no friend suggestion from WhatsApp data; no ad/);
    // The ciphertext each sent is shown beside what Facebook holds.
    expect(printed).toContain(Buffer.from(talk.sentBy.alice!, "base64").toString("hex").slice(0, 48));
    expect(printed).toContain(Buffer.from(talk.sentBy.bob!, "base64").toString("hex").slice(0, 48));
  });
});
