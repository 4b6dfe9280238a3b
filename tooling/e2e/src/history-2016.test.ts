/**
 * `historical-2016` on the simulation clock, across both services: German accounts
 * share until the Hamburg order (2016-09-27) and Facebook holds nothing of them once
 * the clock passes it; UK accounts lose ads/product at the ICO date (2016-11-07).
 */
import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, type MessengerApi, type Pipeline } from "./harness";

let pipeline: Pipeline | null = null;
afterEach(async () => {
  await pipeline?.close();
  pipeline = null;
});

/** Facebook's holdings per WhatsApp account: field -> purposes. */
async function held(p: Pipeline): Promise<Map<string, Record<string, string[]>>> {
  await p.messenger.server.services.share.shipper!.drained();
  const rows = await p.facebook!.server.services.sql<{ whatsapp_account_id: string; field: string; purposes: string[] }[]>`
    select whatsapp_account_id, field, purposes from shared_data`;
  const out = new Map<string, Record<string, string[]>>();
  for (const row of rows) out.set(row.whatsapp_account_id, { ...out.get(row.whatsapp_account_id), [row.field]: row.purposes });
  return out;
}

const usesChoice = (fields: Record<string, string[]> | undefined) =>
  Object.values(fields ?? {}).some((purposes) => purposes.includes("ads") || purposes.includes("product"));

describe("historical-2016 on the simulation clock", () => {
  it("Germany shares until 2016-09-27 and Facebook holds nothing of German accounts after the clock passes it; the UK pause from 2016-11-07", async () => {
    const p = (pipeline = await startPipeline({ regime: "historical-2016" }));
    const people: Record<string, { accountId: string; api: MessengerApi }> = {
      de: await p.register("+4915100000001"),
      gb: await p.register("+447400123456"),
      in: await p.register("+919800000003"),
    };
    await p.admin.admin.setClock.mutate({ at: "2016-08-25T01:00:00Z" });
    for (const who of Object.values(people)) await who.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true });

    const before = await held(p);
    expect(usesChoice(before.get(people.de!.accountId))).toBe(true);
    expect(usesChoice(before.get(people.gb!.accountId))).toBe(true);

    // The move's own check or the server's periodic one writes the snapshots (exactly once between them).
    await p.admin.admin.setClock.mutate({ at: "2016-09-27T06:00:00Z" });
    const afterHamburg = await held(p);
    expect(afterHamburg.has(people.de!.accountId)).toBe(false);
    expect(usesChoice(afterHamburg.get(people.gb!.accountId))).toBe(true);
    expect(usesChoice(afterHamburg.get(people.in!.accountId))).toBe(true);

    await p.admin.admin.advanceClock.mutate({ days: 45 });
    const afterIco = await held(p);
    expect(afterIco.has(people.de!.accountId)).toBe(false);
    expect(afterIco.has(people.gb!.accountId)).toBe(true);
    expect(usesChoice(afterIco.get(people.gb!.accountId))).toBe(false);
    expect(usesChoice(afterIco.get(people.in!.accountId))).toBe(true);
    // One snapshot per crossed date and affected account: DE at 09-27, GB at 11-07.
    const [regimeEvents] = await p.messenger.server.services.sql<{ n: number }[]>`
      select count(*)::int as n from share_outbox where kind = 'regime' and occurred_at > '2016-09-01'`;
    expect(regimeEvents!.n).toBe(2);
  });
});
