/**
 * The 2016 rollout day by day for the dashboard: accounts grouped by what the consent
 * rules look at, each group's history replayed through @handshake/consent, and the
 * figures of each simulated day measured at its end.
 */
import {
  acceptTerms,
  canUseService,
  isNewUser,
  mayShare,
  newAccount,
  optOutInSettings,
  regimeNameSchema,
  REGIMES,
  SHARING_POLICY_VERSION,
  type ConsentState,
  type Purpose,
  type RegimeName,
  type Timeline,
} from "@handshake/consent";
import { accounts } from "@handshake/db/messenger-schema";
import { asc, count, desc } from "drizzle-orm";
import { z } from "zod";
import type { MessengerServices } from "../trpc";
import { iso } from "./schemas";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Days the rollout view covers: the announcement day and the 30 after it (the acceptance deadline falls on the last). */
export const ROLLOUT_DAYS = 31;
/** Every regime the rollout compares: the five rules and the historical composition by country. */
export const ROLLOUT_REGIMES: readonly RegimeName[] = [...REGIMES, "historical-2016"];

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

export const rolloutOutput = z.object({
  now: iso,
  country: z.string().nullable(),
  announcedAt: iso,
  acceptanceDeadline: iso,
  regimes: z.array(regimeNameSchema),
  countries: z.array(z.object({ country: z.string(), accounts: z.number() })),
  days: z.array(rolloutDayOutput),
});

export type RolloutDay = z.infer<typeof rolloutDayOutput>;
export type Rollout = z.infer<typeof rolloutOutput>;

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

/** The rollout up to the simulated now, over every account or one country's. */
export async function readRollout(services: MessengerServices, country: string | null): Promise<Rollout> {
  const now = services.clock.now();
  const { announcedAt } = services.timeline;
  const horizon = new Date(announcedAt.getTime() + ROLLOUT_DAYS * DAY_MS);
  // Accounts grouped by everything the rules look at, with the history's times bucketed
  // by simulated day: within a day the figures (measured at the day's end) cannot differ,
  // so one representative per group (its earliest times) stands for all of them.
  // Raw: `distinct on` CTEs and grouping by computed day buckets.
  const groups = await services.sql<RolloutGroup[]>`
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
    where a.created_at < ${horizon} ${country ? services.sql`and a.country = ${country}` : services.sql``}
    group by a.country, a.kind,
             greatest(-1, floor(extract(epoch from (a.created_at - ${announcedAt}::timestamptz)) / 86400)),
             least(${ROLLOUT_DAYS}, floor(extract(epoch from (acc.at - ${announcedAt}::timestamptz)) / 86400)),
             acc.share_with_facebook, acc.method,
             least(${ROLLOUT_DAYS}, floor(extract(epoch from (opt.at - ${announcedAt}::timestamptz)) / 86400))`;
  const states = groups.map((g) => ({ state: replay(g, services.timeline), n: g.n }));
  const days: RolloutDay[] = [];
  for (let i = 0; i < ROLLOUT_DAYS; i++) {
    const start = new Date(announcedAt.getTime() + i * DAY_MS);
    if (start.getTime() > now.getTime()) break;
    // The day's last instant (a deadline at midnight belongs to the next day), or now.
    const end = new Date(Math.min(start.getTime() + DAY_MS - 1, now.getTime()));
    days.push(rolloutDay(states, start.toISOString().slice(0, 10), end, services.timeline));
  }
  const countries = await services.db
    .select({ country: accounts.country, accounts: count() })
    .from(accounts)
    .groupBy(accounts.country)
    .orderBy(desc(count()), asc(accounts.country));
  return {
    now: now.toISOString(),
    country,
    announcedAt: announcedAt.toISOString(),
    acceptanceDeadline: services.timeline.acceptanceDeadline.toISOString(),
    regimes: [...ROLLOUT_REGIMES],
    countries,
    days,
  };
}
