/**
 * The stack at a glance, as the dashboard's overview reads it: accounts, shards,
 * countries, devices, the queue, live rates, consent totals and the share pipeline.
 * Accounts, devices and consent totals come from the running tallies the database's
 * triggers keep (migration dashboard_tally_triggers): a few hundred rows to sum, at
 * any number of accounts. The queue is counted (it is small unless devices stay away).
 * With a shard map, accounts and consent are home's (the directory rows), devices and
 * the queue are summed over every database.
 */
import { SHARING_POLICY_VERSION } from "@handshake/consent";
import { accountTallies, shareOutbox } from "@handshake/db/messenger-schema";
import { asc, desc, isNull, sql as q } from "drizzle-orm";
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

/**
 * What every database of the shard map holds its own share of, one query each: devices
 * (the tally the devices trigger keeps on each), the queue, and the counters behind the
 * live rates (envelopes ever stored and rows deleted, from the id sequence and table
 * statistics, no scan). Accounts are not summed: home's directory rows count every
 * account once, and a shard database holds the authoritative row of its own accounts too.
 */
async function readPartitionedFigures(services: MessengerServices) {
  const rows = await Promise.all(
    services.shards.all.map(async ({ sql }) => {
      const [row] = await sql<{ devices: number; depth: number; oldest: Date | null; stored: string | null; deleted: string | null }[]>`
        select (select coalesce(sum(n), 0)::int from tallies where name = 'devices') as devices,
               (select count(*)::int from envelopes) as depth,
               (select min(server_timestamp) from envelopes) as oldest,
               pg_sequence_last_value(pg_get_serial_sequence('envelopes', 'id')::regclass) as stored,
               (select n_tup_del from pg_stat_user_tables where relname = 'envelopes' and schemaname = current_schema()) as deleted`;
      return row!;
    }),
  );
  const sum = (pick: (row: (typeof rows)[number]) => number) => rows.reduce((total, row) => total + pick(row), 0);
  const oldest = rows.map((r) => r.oldest).filter((d): d is Date => d !== null);
  const sample: RateSample = {
    realMs: Date.now(),
    stored: sum((r) => Number(r.stored ?? 0)),
    deleted: sum((r) => Number(r.deleted ?? 0)),
    writerOps: services.writer.stats.items,
  };
  return {
    devices: sum((r) => r.devices),
    depth: sum((r) => r.depth),
    oldest: oldest.length > 0 ? new Date(Math.min(...oldest.map((d) => d.getTime()))) : null,
    sample,
  };
}

/** The overview with every country (the live stream reads this once for all its listeners). */
export type StackFigures = Omit<StackOverview, "otherCountries">;

/** The overview as the procedure answers it: the top countries, the rest summed. */
export function withTopCountries(figures: StackFigures, topCountries: number): StackOverview {
  const rest = figures.countries.slice(topCountries);
  return {
    ...figures,
    countries: figures.countries.slice(0, topCountries),
    otherCountries: { countries: rest.length, accounts: rest.reduce((sum, c) => sum + c.accounts, 0) },
  };
}

/** Reads the overview for the top `topCountries` countries. */
export async function readStackOverview(services: MessengerServices, topCountries: number): Promise<StackOverview> {
  return withTopCountries(await readStackFigures(services), topCountries);
}

/** Reads every figure; each read also records a counter sample for the live rates. */
export async function readStackFigures(services: MessengerServices): Promise<StackFigures> {
  const { sql } = services;
  const sampler = services.rates;
  const [[counts], partitioned] = await Promise.all([
    sql<
      {
        total: number;
        personal: number;
        business: number;
        shards: number;
        accepted: number;
        unticked: number;
        opted: number;
      }[]
    >`
      select (select coalesce(sum(accounts), 0)::int from account_tallies) as total,
             (select coalesce(sum(accounts), 0)::int from account_tallies where kind = 'personal') as personal,
             (select coalesce(sum(accounts), 0)::int from account_tallies where kind = 'business') as business,
             (select count(*)::int from shard_tallies where accounts > 0) as shards,
             (select coalesce(sum(n), 0)::int from tallies where name = ${`consent:accepted:${SHARING_POLICY_VERSION}`}) as accepted,
             (select coalesce(sum(n), 0)::int from tallies where name = 'consent:unticked') as unticked,
             (select coalesce(sum(n), 0)::int from tallies where name = 'consent:opted-out') as opted`,
    readPartitionedFigures(services),
  ]);
  sampler.record(partitioned.sample);
  const total = q`sum(${accountTallies.accounts})::int`.mapWith(Number);
  const countries = await services.db
    .select({ country: accountTallies.country, accounts: total })
    .from(accountTallies)
    .groupBy(accountTallies.country)
    .having(q`sum(${accountTallies.accounts}) > 0`)
    .orderBy(desc(total), asc(accountTallies.country));
  const consent = counts!;
  const shipper = services.share.shipper ? await services.share.shipper.status() : null;
  const [pending] = shipper
    ? [{ n: shipper.pending }]
    : [{ n: await services.db.$count(shareOutbox, isNull(shareOutbox.shippedAt)) }];
  const rates = sampler.rates();
  return {
    now: services.clock.now().toISOString(),
    regime: services.regime.current,
    accounts: { total: counts!.total, personal: counts!.personal, business: counts!.business },
    shards: { withAccounts: counts!.shards, configured: services.shardCount },
    countries,
    devices: { registered: partitioned.devices, connected: services.bus.connectedDevices() },
    queue: { depth: partitioned.depth, oldestAt: partitioned.oldest?.toISOString() ?? null },
    rates: rates
      ? {
          windowSeconds: rates.seconds,
          storedPerSecond: rates.storedPerSecond,
          deliveredPerSecond: rates.deliveredPerSecond,
          writerOpsPerSecond: rates.writerOpsPerSecond,
        }
      : null,
    consent: { accepted2016: consent.accepted, boxUnticked: consent.unticked, settingsOptOuts: consent.opted },
    share: shipper
      ? { ...shipper }
      : { state: "disabled", pending: pending?.n ?? 0, lagMs: 0, shipped: 0, consecutiveFailures: 0, lastError: "no FACEBOOK_URL configured" },
  };
}
