/**
 * The stack at a glance, as the dashboard's overview reads it: accounts, shards,
 * countries, devices, the queue, live rates, consent totals and the share pipeline.
 */
import { SHARING_POLICY_VERSION } from "@handshake/consent";
import { z } from "zod";
import type { RateSample } from "../metrics/rate-sampler";
import type { MessengerServices } from "../trpc";
import { iso, regimeOutput } from "./schemas";

export const overviewOutput = z.object({
  now: iso,
  regime: regimeOutput,
  accounts: z.object({ total: z.number(), personal: z.number(), business: z.number() }),
  shards: z.object({ withAccounts: z.number(), configured: z.number() }),
  countries: z.array(z.object({ country: z.string(), accounts: z.number() })),
  otherCountries: z.object({ countries: z.number(), accounts: z.number() }),
  devices: z.object({ registered: z.number(), connected: z.number() }),
  queue: z.object({ depth: z.number(), oldestAt: iso.nullable() }),
  rates: z
    .object({
      windowSeconds: z.number(),
      storedPerSecond: z.number(),
      deliveredPerSecond: z.number(),
      writerOpsPerSecond: z.number(),
    })
    .nullable(),
  consent: z.object({ accepted2016: z.number(), boxUnticked: z.number(), settingsOptOuts: z.number() }),
  share: z.object({
    state: z.string(),
    pending: z.number(),
    lagMs: z.number(),
    shipped: z.number(),
    consecutiveFailures: z.number(),
    lastError: z.string().nullable(),
  }),
});

export type StackOverview = z.infer<typeof overviewOutput>;

/** Envelopes ever stored and rows deleted, from the id sequence and table statistics (no scan). */
async function sampleCounters(services: MessengerServices): Promise<RateSample> {
  const [row] = await services.sql<{ stored: string | null; deleted: string | null }[]>`
    select pg_sequence_last_value(pg_get_serial_sequence('envelopes', 'id')::regclass) as stored,
           (select n_tup_del from pg_stat_user_tables where relname = 'envelopes' and schemaname = current_schema()) as deleted`;
  return {
    realMs: Date.now(),
    stored: Number(row?.stored ?? 0),
    deleted: Number(row?.deleted ?? 0),
    writerOps: services.writer.stats.items,
  };
}

/** Reads the overview; each read also records a counter sample for the live rates. */
export async function readStackOverview(services: MessengerServices, topCountries: number): Promise<StackOverview> {
  const { sql } = services;
  const sampler = services.rates;
  sampler.record(await sampleCounters(services));
  const [counts] = await sql<
    { total: number; personal: number; business: number; shards: number; devices: number; depth: number; oldest: Date | null }[]
  >`
    select (select count(*)::int from accounts) as total,
           (select count(*)::int from accounts where kind = 'personal') as personal,
           (select count(*)::int from accounts where kind = 'business') as business,
           (select count(distinct shard)::int from accounts) as shards,
           (select count(*)::int from devices) as devices,
           (select count(*)::int from envelopes) as depth,
           (select min(server_timestamp) from envelopes) as oldest`;
  const countries = await sql<{ country: string; accounts: number }[]>`
    select country, count(*)::int as accounts from accounts group by country order by accounts desc, country`;
  const [consent] = await sql<{ accepted: number; unticked: number; opted: number }[]>`
    select count(distinct account_id) filter (where kind = 'terms-accepted' and policy_version = ${SHARING_POLICY_VERSION})::int as accepted,
           count(distinct account_id) filter (where kind = 'terms-accepted' and share_with_facebook = false)::int as unticked,
           count(distinct account_id) filter (where kind = 'share-opted-out')::int as opted
    from consent_events`;
  const top = countries.slice(0, topCountries);
  const rest = countries.slice(topCountries);
  const shipper = services.share.shipper ? await services.share.shipper.status() : null;
  const [pending] = shipper
    ? [{ n: shipper.pending }]
    : await sql<{ n: number }[]>`select count(*)::int as n from share_outbox where shipped_at is null`;
  const rates = sampler.rates();
  return {
    now: services.clock.now().toISOString(),
    regime: services.regime.current,
    accounts: { total: counts!.total, personal: counts!.personal, business: counts!.business },
    shards: { withAccounts: counts!.shards, configured: services.shardCount },
    countries: top,
    otherCountries: { countries: rest.length, accounts: rest.reduce((sum, c) => sum + c.accounts, 0) },
    devices: { registered: counts!.devices, connected: services.bus.connectedDevices() },
    queue: { depth: counts!.depth, oldestAt: counts!.oldest?.toISOString() ?? null },
    rates: rates
      ? {
          windowSeconds: rates.seconds,
          storedPerSecond: rates.storedPerSecond,
          deliveredPerSecond: rates.deliveredPerSecond,
          writerOpsPerSecond: rates.writerOpsPerSecond,
        }
      : null,
    consent: { accepted2016: consent!.accepted, boxUnticked: consent!.unticked, settingsOptOuts: consent!.opted },
    share: shipper
      ? { ...shipper }
      : { state: "disabled", pending: pending?.n ?? 0, lagMs: 0, shipped: 0, consecutiveFailures: 0, lastError: "no FACEBOOK_URL configured" },
  };
}
