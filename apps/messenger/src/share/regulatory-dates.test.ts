/**
 * Regulators' dates passed by simulated time flowing at run speed (no clock move):
 * the server's periodic check writes the withdrawal for German accounts once.
 */
import { afterAll, describe, expect, it } from "vitest";
import { regimeFor } from "@handshake/consent";
import { RegimeHistory } from "../storage/regimes";
import { startTestMessenger, type TestMessenger } from "../testing";
import { registerAccount } from "../../test/helpers";

let messenger: TestMessenger | null = null;
afterAll(async () => messenger?.close());

describe("RegulatoryWatch", () => {
  it("writes an empty snapshot for a German account when time flows past 2016-09-27, once", async () => {
    // Two seconds before the Hamburg order; the sim clock then runs at real speed.
    messenger = await startTestMessenger({ simStart: new Date("2016-09-26T23:59:58Z"), rateLimits: false });
    const german = await registerAccount(messenger.url, { phoneNumber: "+4915199000007" });
    const indian = await registerAccount(messenger.url, { phoneNumber: "+919810000007" });
    for (const who of [german, indian]) await who.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true });
    const { sql } = messenger.server.services;
    const regimeEvents = () =>
      sql<{ account_id: string; payload: { fields: object } }[]>`
        select account_id, payload from share_outbox where kind = 'regime' and occurred_at >= '2016-09-27'`;
    await expect.poll(async () => (await regimeEvents()).length, { timeout: 15_000, interval: 200 }).toBe(1);
    const [event] = await regimeEvents();
    expect(event).toEqual({ account_id: german.accountId, payload: { fields: {} } });
    // Later checks (periodic or a clock move) do not write it again.
    await messenger.server.services.regulatory.check(new Date("2016-09-28T00:00:00Z"));
    expect(await regimeEvents()).toHaveLength(1);
  });

  it("a dated spec switched at run time survives a reload (its dates come back as dates)", async () => {
    const { sql, share, clock } = messenger!.server.services;
    const spec = { base: "optout-2016" as const, dated: [{ from: new Date("2016-10-01T00:00:00Z"), regime: "none" as const, countries: ["FR"] }] };
    await share.switchRegime(spec, clock.now());
    const reloaded = await RegimeHistory.load(sql, "none");
    expect(regimeFor(reloaded.current, "FR", new Date("2016-09-30T00:00:00Z"))).toBe("optout-2016");
    expect(regimeFor(reloaded.current, "FR", new Date("2016-10-01T00:00:00Z"))).toBe("none");
  });
});
