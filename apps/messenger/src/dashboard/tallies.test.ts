/**
 * The overview's running tallies (kept by triggers) against exact counts: after
 * registrations and consent choices racing each other, a multi-row insert as the
 * seeder's COPY does (with a repeated event for one account), and deletes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SHARING_POLICY_VERSION } from "@handshake/consent";
import { startTestMessenger, TEST_ADMIN_TOKEN, type TestMessenger } from "../testing";
import { httpApi, registerAccount } from "../../test/helpers";

let messenger: TestMessenger;

beforeAll(async () => {
  messenger = await startTestMessenger({ simStart: new Date("2016-08-20T08:00:00Z"), rateLimits: false });
});
afterAll(async () => {
  await messenger?.close();
});

/** The figures as the overview counted them before the tallies: full scans. */
async function exactCounts() {
  const sql = messenger.server.services.sql;
  const [row] = await sql<{ total: number; business: number; shards: number; devices: number; accepted: number; unticked: number; opted: number }[]>`
    select (select count(*)::int from accounts) as total,
           (select count(*)::int from accounts where kind = 'business') as business,
           (select count(distinct shard)::int from accounts) as shards,
           (select count(*)::int from devices) as devices,
           (select count(distinct account_id)::int from consent_events where kind = 'terms-accepted' and policy_version = ${SHARING_POLICY_VERSION}) as accepted,
           (select count(distinct account_id)::int from consent_events where kind = 'terms-accepted' and share_with_facebook = false) as unticked,
           (select count(distinct account_id)::int from consent_events where kind = 'share-opted-out') as opted`;
  const countries = await sql<{ country: string; accounts: number }[]>`
    select country, count(*)::int as accounts from accounts group by country order by accounts desc, country`;
  return { ...row!, countries };
}

async function tallied() {
  const o = await httpApi(messenger.url, undefined, TEST_ADMIN_TOKEN).dashboard.overview.query({ topCountries: 50 });
  return {
    total: o.accounts.total,
    business: o.accounts.business,
    shards: o.shards.withAccounts,
    devices: o.devices.registered,
    accepted: o.consent.accepted2016,
    unticked: o.consent.boxUnticked,
    opted: o.consent.settingsOptOuts,
    countries: o.countries,
  };
}

describe("dashboard tallies", () => {
  it("match exact counts after racing registrations and choices, a bulk insert, and deletes", async () => {
    const prefixes = ["+91981000", "+491519900", "+551198765", "+1212736"];
    const accounts = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        registerAccount(messenger.url, {
          phoneNumber: `${prefixes[i % 4]}${1000 + i}`,
          ...(i % 8 === 7 ? { business: `Shop ${i}` } : {}),
        }),
      ),
    );
    // Existing users, offered the box once the new terms are out.
    await httpApi(messenger.url, undefined, TEST_ADMIN_TOKEN).admin.setClock.mutate({ at: "2016-08-25T12:00:00Z" });
    await Promise.all(
      accounts.map((a, i) => (i % 8 === 7 ? null : a.api.terms.accept.mutate({ version: SHARING_POLICY_VERSION, shareWithFacebook: i % 3 !== 0 }))),
    );
    await Promise.all(accounts.filter((_, i) => i % 3 === 1 && i % 8 !== 7).map((a) => a.api.settings.setShareAccountInfo.mutate({ shareWithFacebook: false })));
    expect(await tallied()).toEqual(await exactCounts());

    // The seeder writes many rows per statement; one account gets a repeated acceptance
    // (the raw table allows it), which must still count once.
    const sql = messenger.server.services.sql;
    const ids = await sql<{ id: string }[]>`
      insert into accounts (phone_number, country, shard, kind, created_at)
      select '+9199' || lpad(g::text, 8, '0'), case when g % 2 = 0 then 'IN' else 'BR' end, g % 40, 'personal', now()
      from generate_series(1, 500) g returning id`;
    await sql`
      insert into devices (account_id, device_id, credential_hash, os, os_version, app_version, model, created_at)
      select id, 1, '\\x00'::bytea, 'android', '6', '2.16', 'x', now() from accounts where phone_number like '+9199%'`;
    await sql`
      insert into consent_events (account_id, kind, policy_version, share_with_facebook, method, at)
      select id, 'terms-accepted', ${SHARING_POLICY_VERSION}, false, 'unticked-at-acceptance', now() from accounts where phone_number like '+9199%'
      union all
      select ${ids[0]!.id}::uuid, 'terms-accepted', ${SHARING_POLICY_VERSION}, false, 'unticked-at-acceptance', now()`;
    const afterBulk = await exactCounts();
    expect(afterBulk.total).toBe(532);
    expect(await tallied()).toEqual(afterBulk);

    const deleted = await sql`delete from accounts where phone_number like '+9199%' and shard < 10`;
    const afterDelete = await exactCounts();
    expect(deleted.count).toBeGreaterThan(100);
    expect(afterDelete.total).toBe(532 - deleted.count);
    const t = await tallied();
    // Consent history is kept after an account goes (append-only), so only accounts and devices drop.
    expect({ ...t, accepted: afterDelete.accepted, unticked: afterDelete.unticked, opted: afterDelete.opted }).toEqual(afterDelete);
  });
});
