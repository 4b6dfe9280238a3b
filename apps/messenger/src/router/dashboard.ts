/**
 * Read-only views for the dashboard (apps/web), behind the admin token: the
 * stack at a glance, one account as the messenger holds it (metadata and sizes,
 * never content), account search, and the 2016 rollout day by day.
 */
import type { TRPCRouterRecord } from "@trpc/server";
import {
  acceptTerms,
  canUseService,
  canChangeShareChoice,
  isNewUser,
  mayShare,
  newAccount,
  optOutInSettings,
  PURPOSES,
  regimeInputSchema,
  regimeNameSchema,
  REGIMES,
  SHARE_CHOICE_METHODS,
  SHARING_POLICY_VERSION,
  type ConsentState,
  type Purpose,
  type RegimeInput,
  type RegimeName,
  type Timeline,
} from "@handshake/consent";
import { z } from "zod";
import type { RateSample } from "../metrics/rate-sampler";
import { adminProcedure, type Context } from "../trpc";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Days the rollout view covers: the announcement day and the 30 after it (the acceptance deadline falls on the last). */
export const ROLLOUT_DAYS = 31;
/** Every regime the rollout compares: the five rules and the historical composition by country. */
export const ROLLOUT_REGIMES: readonly RegimeName[] = [...REGIMES, "historical-2016"];

const iso = z.string();
/** The regime in force, as configured (a preset name or a spec). */
const regimeOutput = z.custom<RegimeInput>((value) => regimeInputSchema.safeParse(value).success);
const countrySchema = z.string().regex(/^[A-Z]{2}$/, { message: "a country is two upper-case letters (ISO 3166-1)" });



async function sampleCounters(ctx: Context): Promise<RateSample> {
  const [row] = await ctx.services.sql<{ stored: string | null; deleted: string | null }[]>`
    select pg_sequence_last_value(pg_get_serial_sequence('envelopes', 'id')::regclass) as stored,
           (select n_tup_del from pg_stat_user_tables where relname = 'envelopes' and schemaname = current_schema()) as deleted`;
  return {
    realMs: Date.now(),
    stored: Number(row?.stored ?? 0),
    deleted: Number(row?.deleted ?? 0),
    writerOps: ctx.services.writer.stats.items,
  };
}

// ---------------------------------------------------------------- outputs

const overviewOutput = z.object({
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

const consentEventOutput = z.object({
  kind: z.string(),
  policyVersion: z.string(),
  shareWithFacebook: z.boolean().nullable(),
  method: z.string().nullable(),
  businessAccountId: z.string().nullable(),
  at: iso,
});

const envelopeOutput = z.object({
  id: z.string(),
  direction: z.enum(["in", "out"]),
  peerAccountId: z.string(),
  peerDeviceId: z.number(),
  deviceId: z.number(),
  type: z.number(),
  /** Ciphertext length in bytes; the content itself never leaves the database. */
  bytes: z.number(),
  category: z.string().nullable(),
  serverTimestamp: iso,
});

const accountOutput = z.object({
  now: iso,
  regime: regimeOutput,
  account: z.object({
    id: z.string(),
    phoneNumber: z.string(),
    country: z.string(),
    shard: z.number(),
    kind: z.string(),
    displayName: z.string().nullable(),
    createdAt: iso,
  }),
  devices: z.array(
    z.object({
      deviceId: z.number(),
      os: z.string(),
      osVersion: z.string(),
      appVersion: z.string(),
      model: z.string(),
      createdAt: iso,
      lastSeenAt: iso.nullable(),
      keys: z.object({ signedPrekeys: z.number(), oneTimePrekeys: z.number(), kyberPrekeys: z.number(), kyberLastResort: z.number() }),
    }),
  ),
  envelopes: z.object({
    queuedFor: z.number(),
    queuedFrom: z.number(),
    bytesQueuedFor: z.number(),
    recent: z.array(envelopeOutput),
  }),
  usage: z.object({ messagesTotal: z.number(), activeDays: z.number(), lastSeenAt: iso }).nullable(),
  consent: z.object({
    history: z.array(consentEventOutput),
    terms: z.object({ version: z.string(), acceptedAt: iso }).nullable(),
    share: z.object({ shareWithFacebook: z.boolean(), method: z.enum(SHARE_CHOICE_METHODS), madeAt: iso, finalAt: iso }).nullable(),
    canUseService: z.boolean(),
    canChangeShareChoice: z.boolean(),
    /** Under the regime in force, now: may this account's data serve each purpose? */
    purposes: z.record(z.enum(PURPOSES), z.boolean()),
  }),
  shareEvents: z.object({
    total: z.number(),
    recent: z.array(
      z.object({
        id: z.number(),
        kind: z.string(),
        occurredAt: iso,
        shippedAt: iso.nullable(),
        /** Field names and the purposes each was sent for (values are on the Facebook side). */
        fields: z.array(z.object({ field: z.string(), purposes: z.array(z.string()) })),
      }),
    ),
  }),
});

const findAccountsOutput = z.object({
  accounts: z.array(
    z.object({
      id: z.string(),
      phoneNumber: z.string(),
      country: z.string(),
      shard: z.number(),
      kind: z.string(),
      createdAt: iso,
      accepted: z.boolean(),
      shareWithFacebook: z.boolean().nullable(),
      method: z.string().nullable(),
      optedOut: z.boolean(),
    }),
  ),
});

const mayServeOutput = z.object({ ads: z.number(), product: z.number() });

const rolloutDayOutput = z.object({
  /** The simulated day, YYYY-MM-DD (UTC). */
  day: z.string(),
  /** The instant the day's figures describe: the day's last millisecond, or now for the current day. */
  at: iso,
  registered: z.number(),
  existingUsers: z.number(),
  accepted: z.number(),
  boxUnticked: z.number(),
  settingsOptOuts: z.number(),
  lockedOut: z.number(),
  /** Accounts whose data may serve ads / product experiences at `at`, per regime. */
  mayServe: z.record(regimeNameSchema, mayServeOutput),
});

const rolloutOutput = z.object({
  now: iso,
  country: z.string().nullable(),
  announcedAt: iso,
  acceptanceDeadline: iso,
  regimes: z.array(regimeNameSchema),
  countries: z.array(z.object({ country: z.string(), accounts: z.number() })),
  days: z.array(rolloutDayOutput),
});

export type RolloutDay = z.infer<typeof rolloutDayOutput>;

// ---------------------------------------------------------------- rollout

interface RolloutGroup {
  country: string;
  kind: "personal" | "business";
  registered_at: Date;
  accepted_at: Date | null;
  share_with_facebook: boolean | null;
  method: string | null;
  opted_at: Date | null;
  n: number;
}

/**
 * Replays one group's history through the pure rules. The box an account saw is
 * the one its recorded method implies (an unticked box only under `optin`).
 */
function replay(group: RolloutGroup, timeline: Timeline): ConsentState {
  let state = newAccount({ registeredAt: group.registered_at, country: group.country, kind: group.kind }, timeline);
  if (group.accepted_at) {
    const optinBox = group.method === "ticked-at-acceptance" || group.method === "left-unticked";
    const accepted = acceptTerms(
      state,
      { version: SHARING_POLICY_VERSION, shareWithFacebook: Boolean(group.share_with_facebook), at: group.accepted_at },
      { regime: optinBox ? "optin" : "optout-2016", timeline },
    );
    if (accepted.ok) state = accepted.state;
  }
  if (group.opted_at) {
    const opted = optOutInSettings(state, group.opted_at);
    // History was valid when recorded; if a replay refuses, keep the last valid state (as ConsentStore does).
    if (opted.ok) state = opted.state;
  }
  return state;
}

/** One day's figures over the groups, measured at `at`. */
export function rolloutDay(states: { state: ConsentState; n: number }[], day: string, at: Date, timeline: Timeline): RolloutDay {
  const t = at.getTime();
  const mayServe = Object.fromEntries(ROLLOUT_REGIMES.map((r) => [r, { ads: 0, product: 0 }])) as Record<
    RegimeName,
    { ads: number; product: number }
  >;
  const out: RolloutDay = {
    day,
    at: at.toISOString(),
    registered: 0,
    existingUsers: 0,
    accepted: 0,
    boxUnticked: 0,
    settingsOptOuts: 0,
    lockedOut: 0,
    mayServe,
  };
  for (const { state, n } of states) {
    if (state.registeredAt.getTime() > t) continue;
    out.registered += n;
    const existing = !isNewUser(state, timeline);
    if (existing) out.existingUsers += n;
    if (state.terms?.version === SHARING_POLICY_VERSION && state.terms.acceptedAt.getTime() <= t) out.accepted += n;
    const share = state.share;
    if (share && share.madeAt.getTime() <= t) {
      if (share.method === "unticked-at-acceptance" || share.method === "left-unticked") out.boxUnticked += n;
      if (share.method === "settings-within-window") out.settingsOptOuts += n;
    }
    if (existing && !canUseService(state, at, timeline)) out.lockedOut += n;
    for (const regime of ROLLOUT_REGIMES) {
      for (const purpose of ["ads", "product"] as const satisfies Purpose[]) {
        if (mayShare(state, purpose, at, regime)) mayServe[regime][purpose] += n;
      }
    }
  }
  return out;
}

async function rollout(ctx: Context, country: string | null) {
  const now = ctx.services.clock.now();
  const { announcedAt } = ctx.services.timeline;
  const horizon = new Date(announcedAt.getTime() + ROLLOUT_DAYS * DAY_MS);
  // Accounts grouped by everything the rules look at, with the history's times bucketed
  // by simulated day: within a day the figures (measured at the day's end) cannot differ,
  // so one representative per group (its earliest times) stands for all of them.
  const groups = await ctx.services.sql<RolloutGroup[]>`
    with acc as (
      select distinct on (account_id) account_id, at, share_with_facebook, method
      from consent_events where kind = 'terms-accepted' and policy_version = ${SHARING_POLICY_VERSION}
      order by account_id, id
    ), opt as (
      select distinct on (account_id) account_id, at
      from consent_events where kind = 'share-opted-out'
      order by account_id, id
    )
    select a.country, a.kind,
           min(a.created_at) as registered_at,
           min(acc.at) as accepted_at, acc.share_with_facebook, acc.method,
           min(opt.at) as opted_at,
           count(*)::int as n
    from accounts a
    left join acc on acc.account_id = a.id
    left join opt on opt.account_id = a.id
    where a.created_at < ${horizon} ${country ? ctx.services.sql`and a.country = ${country}` : ctx.services.sql``}
    group by a.country, a.kind,
             greatest(-1, floor(extract(epoch from (a.created_at - ${announcedAt}::timestamptz)) / 86400)),
             least(${ROLLOUT_DAYS}, floor(extract(epoch from (acc.at - ${announcedAt}::timestamptz)) / 86400)),
             acc.share_with_facebook, acc.method,
             least(${ROLLOUT_DAYS}, floor(extract(epoch from (opt.at - ${announcedAt}::timestamptz)) / 86400))`;
  const states = groups.map((g) => ({ state: replay(g, ctx.services.timeline), n: g.n }));
  const days: RolloutDay[] = [];
  for (let i = 0; i < ROLLOUT_DAYS; i++) {
    const start = new Date(announcedAt.getTime() + i * DAY_MS);
    if (start.getTime() > now.getTime()) break;
    // The day's last instant (a deadline at midnight belongs to the next day), or now.
    const end = new Date(Math.min(start.getTime() + DAY_MS - 1, now.getTime()));
    days.push(rolloutDay(states, start.toISOString().slice(0, 10), end, ctx.services.timeline));
  }
  const countries = await ctx.services.sql<{ country: string; accounts: number }[]>`
    select country, count(*)::int as accounts from accounts group by country order by accounts desc, country`;
  return {
    now: now.toISOString(),
    country,
    announcedAt: announcedAt.toISOString(),
    acceptanceDeadline: ctx.services.timeline.acceptanceDeadline.toISOString(),
    regimes: [...ROLLOUT_REGIMES],
    countries,
    days,
  };
}

// ---------------------------------------------------------------- router

export const dashboardRouter = {
  /** The stack at a glance: the sample, devices, the queue, live rates, the share pipeline, the clock. */
  overview: adminProcedure
    .input(z.object({ topCountries: z.number().int().min(1).max(50).default(8) }).default({ topCountries: 8 }))
    .output(overviewOutput)
    .query(async ({ ctx, input }) => {
      const sampler = ctx.services.rates;
      sampler.record(await sampleCounters(ctx));
      const [counts] = await ctx.services.sql<
        { total: number; personal: number; business: number; shards: number; devices: number; depth: number; oldest: Date | null }[]
      >`
        select (select count(*)::int from accounts) as total,
               (select count(*)::int from accounts where kind = 'personal') as personal,
               (select count(*)::int from accounts where kind = 'business') as business,
               (select count(distinct shard)::int from accounts) as shards,
               (select count(*)::int from devices) as devices,
               (select count(*)::int from envelopes) as depth,
               (select min(server_timestamp) from envelopes) as oldest`;
      const countries = await ctx.services.sql<{ country: string; accounts: number }[]>`
        select country, count(*)::int as accounts from accounts group by country order by accounts desc, country`;
      const [consent] = await ctx.services.sql<{ accepted: number; unticked: number; opted: number }[]>`
        select count(distinct account_id) filter (where kind = 'terms-accepted' and policy_version = ${SHARING_POLICY_VERSION})::int as accepted,
               count(distinct account_id) filter (where kind = 'terms-accepted' and share_with_facebook = false)::int as unticked,
               count(distinct account_id) filter (where kind = 'share-opted-out')::int as opted
        from consent_events`;
      const top = countries.slice(0, input.topCountries);
      const rest = countries.slice(input.topCountries);
      const shipper = ctx.services.share.shipper ? await ctx.services.share.shipper.status() : null;
      const [pending] = shipper
        ? [{ n: shipper.pending }]
        : await ctx.services.sql<{ n: number }[]>`select count(*)::int as n from share_outbox where shipped_at is null`;
      const rates = sampler.rates();
      return {
        now: ctx.services.clock.now().toISOString(),
        regime: ctx.services.regime.current,
        accounts: { total: counts!.total, personal: counts!.personal, business: counts!.business },
        shards: { withAccounts: counts!.shards, configured: ctx.services.shardCount },
        countries: top,
        otherCountries: { countries: rest.length, accounts: rest.reduce((sum, c) => sum + c.accounts, 0) },
        devices: { registered: counts!.devices, connected: ctx.services.bus.connectedDevices() },
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
    }),

  /**
   * One account as the messenger holds it: devices and key counts, envelope
   * metadata and ciphertext sizes (never content), consent history and the share
   * events written for it.
   */
  account: adminProcedure
    .input(z.object({ accountId: z.uuid() }))
    .output(accountOutput.nullable())
    .query(async ({ ctx, input }) => {
      const id = input.accountId;
      const [account] = await ctx.services.sql<
        { id: string; phone_number: string; country: string; shard: number; kind: string; display_name: string | null; created_at: Date }[]
      >`select id, phone_number, country, shard, kind, display_name, created_at from accounts where id = ${id}`;
      if (!account) return null;
      const now = ctx.services.clock.now();
      const devices = await ctx.services.sql<
        {
          device_id: number;
          os: string;
          os_version: string;
          app_version: string;
          model: string;
          created_at: Date;
          last_seen_at: Date | null;
          signed: number;
          one_time: number;
          kyber: number;
          kyber_last_resort: number;
        }[]
      >`
        select d.device_id, d.os, d.os_version, d.app_version, d.model, d.created_at, d.last_seen_at,
               (select count(*)::int from signed_prekeys k where k.account_id = d.account_id and k.device_id = d.device_id) as signed,
               (select count(*)::int from one_time_prekeys k where k.account_id = d.account_id and k.device_id = d.device_id) as one_time,
               (select count(*)::int from kyber_prekeys k where k.account_id = d.account_id and k.device_id = d.device_id and not k.last_resort) as kyber,
               (select count(*)::int from kyber_prekeys k where k.account_id = d.account_id and k.device_id = d.device_id and k.last_resort) as kyber_last_resort
        from devices d where d.account_id = ${id} order by d.device_id`;
      // length(content) only: the ciphertext itself is never selected.
      const [totals] = await ctx.services.sql<{ queued_for: number; queued_from: number; bytes_for: string | null }[]>`
        select (select count(*)::int from envelopes where recipient_account_id = ${id}) as queued_for,
               (select count(*)::int from envelopes where sender_account_id = ${id}) as queued_from,
               (select sum(length(content)) from envelopes where recipient_account_id = ${id}) as bytes_for`;
      const recent = await ctx.services.sql<
        {
          id: string;
          direction: "in" | "out";
          peer_account_id: string;
          peer_device_id: number;
          device_id: number;
          type: number;
          bytes: number;
          category: string | null;
          server_timestamp: Date;
        }[]
      >`
        (select id::text, 'in' as direction, sender_account_id as peer_account_id, sender_device_id as peer_device_id,
                recipient_device_id as device_id, type, length(content) as bytes, category, server_timestamp
         from envelopes where recipient_account_id = ${id} order by id desc limit 25)
        union all
        (select id::text, 'out', recipient_account_id, recipient_device_id, sender_device_id, type, length(content),
                category, server_timestamp
         from envelopes where sender_account_id = ${id} order by id desc limit 25)
        order by server_timestamp desc, id desc`;
      const [usage] = await ctx.services.sql<{ messages_total: string; active_days: number; last_seen_at: Date }[]>`
        select messages_total, active_days, last_seen_at from usage_counters where account_id = ${id}`;
      const history = await ctx.services.sql<
        { kind: string; policy_version: string; share_with_facebook: boolean | null; method: string | null; business_account_id: string | null; at: Date }[]
      >`
        select kind, policy_version, share_with_facebook, method, business_account_id, at
        from consent_events where account_id = ${id} order by id`;
      const { state } = await ctx.services.consent.get(id);
      const [shareTotal] = await ctx.services.sql<{ n: number }[]>`select count(*)::int as n from share_outbox where account_id = ${id}`;
      const shareEvents = await ctx.services.sql<{ id: number; kind: string; occurred_at: Date; shipped_at: Date | null; payload: { fields?: Record<string, { purposes?: string[] }> } }[]>`
        select id, kind, occurred_at, shipped_at, payload from share_outbox where account_id = ${id} order by id desc limit 20`;
      return {
        now: now.toISOString(),
        regime: ctx.services.regime.current,
        account: {
          id: account.id,
          phoneNumber: account.phone_number,
          country: account.country,
          shard: account.shard,
          kind: account.kind,
          displayName: account.display_name,
          createdAt: account.created_at.toISOString(),
        },
        devices: devices.map((d) => ({
          deviceId: d.device_id,
          os: d.os,
          osVersion: d.os_version,
          appVersion: d.app_version,
          model: d.model,
          createdAt: d.created_at.toISOString(),
          lastSeenAt: d.last_seen_at?.toISOString() ?? null,
          keys: { signedPrekeys: d.signed, oneTimePrekeys: d.one_time, kyberPrekeys: d.kyber, kyberLastResort: d.kyber_last_resort },
        })),
        envelopes: {
          queuedFor: totals!.queued_for,
          queuedFrom: totals!.queued_from,
          bytesQueuedFor: Number(totals!.bytes_for ?? 0),
          recent: recent.map((e) => ({
            id: e.id,
            direction: e.direction,
            peerAccountId: e.peer_account_id,
            peerDeviceId: e.peer_device_id,
            deviceId: e.device_id,
            type: e.type,
            bytes: e.bytes,
            category: e.category,
            serverTimestamp: e.server_timestamp.toISOString(),
          })),
        },
        usage: usage
          ? { messagesTotal: Number(usage.messages_total), activeDays: usage.active_days, lastSeenAt: usage.last_seen_at.toISOString() }
          : null,
        consent: {
          history: history.map((h) => ({
            kind: h.kind,
            policyVersion: h.policy_version,
            shareWithFacebook: h.share_with_facebook,
            method: h.method,
            businessAccountId: h.business_account_id,
            at: h.at.toISOString(),
          })),
          terms: state.terms ? { version: state.terms.version, acceptedAt: state.terms.acceptedAt.toISOString() } : null,
          share: state.share
            ? {
                shareWithFacebook: state.share.shareWithFacebook,
                method: state.share.method,
                madeAt: state.share.madeAt.toISOString(),
                finalAt: state.share.finalAt.toISOString(),
              }
            : null,
          canUseService: canUseService(state, now, ctx.services.timeline),
          canChangeShareChoice: canChangeShareChoice(state, now),
          purposes: Object.fromEntries(PURPOSES.map((p) => [p, mayShare(state, p, now, ctx.services.regime.current)])) as Record<Purpose, boolean>,
        },
        shareEvents: {
          total: shareTotal?.n ?? 0,
          recent: shareEvents.map((e) => ({
            id: Number(e.id),
            kind: e.kind,
            occurredAt: e.occurred_at.toISOString(),
            shippedAt: e.shipped_at?.toISOString() ?? null,
            fields: Object.entries(e.payload.fields ?? {}).map(([field, v]) => ({ field, purposes: v.purposes ?? [] })),
          })),
        },
      };
    }),

  /** Accounts by phone or id prefix, country and share choice (newest first, at most `limit`). */
  findAccounts: adminProcedure
    .input(
      z.object({
        query: z.string().trim().max(64).optional(),
        country: countrySchema.optional(),
        /** true: unticked the box or opted out in Settings; false: everyone else. */
        optedOut: z.boolean().optional(),
        /** true: accepted the 2016 terms; false: has not. */
        accepted: z.boolean().optional(),
        limit: z.number().int().min(1).max(200).default(25),
      }),
    )
    .output(findAccountsOutput)
    .query(async ({ ctx, input }) => {
      const sql = ctx.services.sql;
      const q = input.query ?? "";
      const digits = q.replace(/[^0-9]/g, "");
      const byQuery =
        q === ""
          ? sql``
          : /^[0-9a-f-]+$/i.test(q) && /[a-f-]/i.test(q)
            ? sql`and a.id::text like ${`${q.toLowerCase()}%`}`
            : digits
              ? sql`and (a.phone_number like ${`+${digits}%`} or a.id::text like ${`${q.toLowerCase()}%`})`
              : sql`and false`;
      const rows = await sql<
        {
          id: string;
          phone_number: string;
          country: string;
          shard: number;
          kind: string;
          created_at: Date;
          accepted: boolean;
          share_with_facebook: boolean | null;
          method: string | null;
          opted_out: boolean;
        }[]
      >`
        select * from (
          select a.id, a.phone_number, a.country, a.shard, a.kind, a.created_at,
                 acc.account_id is not null as accepted,
                 case when opt.account_id is not null then false else acc.share_with_facebook end as share_with_facebook,
                 case when opt.account_id is not null then 'settings-within-window' else acc.method end as method,
                 (opt.account_id is not null or coalesce(acc.share_with_facebook = false, false)) as opted_out
          from accounts a
          left join lateral (
            select account_id, share_with_facebook, method from consent_events c
            where c.account_id = a.id and c.kind = 'terms-accepted' and c.policy_version = ${SHARING_POLICY_VERSION}
            order by id limit 1) acc on true
          left join lateral (
            select account_id from consent_events c where c.account_id = a.id and c.kind = 'share-opted-out' limit 1) opt on true
          where true ${byQuery} ${input.country ? sql`and a.country = ${input.country}` : sql``}
        ) x
        where true
          ${input.optedOut === undefined ? sql`` : sql`and x.opted_out = ${input.optedOut}`}
          ${input.accepted === undefined ? sql`` : sql`and x.accepted = ${input.accepted}`}
        order by x.id
        limit ${input.limit}`;
      return {
        accounts: rows.map((r) => ({
          id: r.id,
          phoneNumber: r.phone_number,
          country: r.country,
          shard: r.shard,
          kind: r.kind,
          createdAt: r.created_at.toISOString(),
          accepted: r.accepted,
          shareWithFacebook: r.share_with_facebook,
          method: r.method,
          optedOut: r.opted_out,
        })),
      };
    }),

  /**
   * The 2016 rollout day by day (announcement day and the 30 after it, up to the
   * simulated now): acceptances, unticked boxes, settings opt-outs, holdouts locked
   * out, and per regime how many accounts' data may serve ads / product, decided
   * by @handshake/consent over each account's recorded history.
   */
  rollout: adminProcedure
    .input(z.object({ country: countrySchema.optional() }).default({}))
    .output(rolloutOutput)
    .query(({ ctx, input }) => rollout(ctx, input.country ?? null)),
} satisfies TRPCRouterRecord;
