/**
 * Read-only views for the dashboard (apps/web), behind the admin token: what the
 * Facebook side holds in aggregate, and an advertiser's view of its audiences —
 * exactly what that advertiser is shown, nothing more.
 */
import type { TRPCRouterRecord } from "@trpc/server";
import { advertisers as advertisersTable, audiences as audiencesTable, auditLog, sharedData } from "@handshake/db/facebook-schema";
import { asc, count, eq, sql as q } from "drizzle-orm";
import { z } from "zod";
import { advertiserView } from "../audiences/view";
import { regimeInputSchema } from "@handshake/consent";
import { readGains } from "../gains/view";
import { readUsageMetrics } from "../metrics/usage-view";
import { audienceSummaries } from "../storage/audiences";
import { adminProcedure } from "../trpc";

const iso = z.string();

const sizeEstimateOutput = z.union([
  z.object({ tooSmall: z.literal(true) }),
  z.object({ tooSmall: z.literal(false), lower: z.number(), upper: z.number().nullable(), label: z.string() }),
]);

const overviewOutput = z.object({
  now: iso,
  sharedData: z.object({
    rows: z.number(),
    accounts: z.number(),
    byField: z.array(z.object({ field: z.string(), rows: z.number(), forAds: z.number(), forProduct: z.number() })),
  }),
  ingestedEvents: z.number(),
  profiles: z.number(),
  links: z.number(),
  audit: z.object({
    rows: z.number(),
    byUse: z.array(z.object({ feature: z.string(), purpose: z.string(), rows: z.number() })),
  }),
  advertisers: z.number(),
  audiences: z.number(),
  audienceMembers: z.object({ total: z.number(), viaWhatsapp: z.number() }),
  impressions: z.number(),
});

const advertiserAudienceOutput = z.object({
  audienceId: z.string(),
  name: z.string(),
  uploadedRows: z.number(),
  createdAt: iso,
  size: sizeEstimateOutput,
});

const advertiserViewOutput = z.object({
  advertisers: z.array(z.object({ advertiserId: z.string(), name: z.string(), audiences: z.number() })),
  selected: z
    .object({
      advertiserId: z.string(),
      name: z.string(),
      /** What `audiences.list` answers this advertiser, field for field. */
      audiences: z.array(advertiserAudienceOutput),
    })
    .nullable(),
});

export const dashboardRouter = {
  /** Counts of everything the Facebook side holds and did with WhatsApp data. */
  overview: adminProcedure.output(overviewOutput).query(async ({ ctx }) => {
    // Raw: eleven counts in one round trip.
    const [counts] = await ctx.sql<
      {
        shared_rows: number;
        shared_accounts: number;
        ingested: number;
        profiles: number;
        links: number;
        audit_rows: number;
        advertisers: number;
        audiences: number;
        members: number;
        members_whatsapp: number;
        impressions: number;
      }[]
    >`
      select (select count(*)::int from shared_data) as shared_rows,
             (select count(distinct whatsapp_account_id)::int from shared_data) as shared_accounts,
             (select count(*)::int from ingested_events) as ingested,
             (select count(*)::int from profiles) as profiles,
             (select count(*)::int from links) as links,
             (select count(*)::int from audit_log) as audit_rows,
             (select count(*)::int from advertisers) as advertisers,
             (select count(*)::int from audiences) as audiences,
             (select count(*)::int from audience_members) as members,
             (select count(*)::int from audience_members where via_whatsapp) as members_whatsapp,
             (select count(*)::int from ad_impressions) as impressions`;
    const forPurpose = (purpose: string) => q`count(*) filter (where ${purpose} = any(${sharedData.purposes}))`.mapWith(Number);
    const byField = await ctx.db
      .select({ field: sharedData.field, rows: count(), ads: forPurpose("ads"), product: forPurpose("product") })
      .from(sharedData)
      .groupBy(sharedData.field)
      .orderBy(asc(sharedData.field));
    const byUse = await ctx.db
      .select({ feature: auditLog.feature, purpose: auditLog.purpose, rows: count() })
      .from(auditLog)
      .groupBy(auditLog.feature, auditLog.purpose)
      .orderBy(asc(auditLog.feature), asc(auditLog.purpose));
    const c = counts!;
    return {
      now: ctx.clock.now().toISOString(),
      sharedData: {
        rows: c.shared_rows,
        accounts: c.shared_accounts,
        byField: byField.map((f) => ({ field: f.field, rows: f.rows, forAds: f.ads, forProduct: f.product })),
      },
      ingestedEvents: c.ingested,
      profiles: c.profiles,
      links: c.links,
      audit: { rows: c.audit_rows, byUse },
      advertisers: c.advertisers,
      audiences: c.audiences,
      audienceMembers: { total: c.members, viaWhatsapp: c.members_whatsapp },
      impressions: c.impressions,
    };
  }),

  /**
   * Facebook's metrics view: WhatsApp usage per country, read only from data held for
   * the `metrics` purpose (every datum read is audited as a `metrics` use).
   */
  metrics: adminProcedure.query(async ({ ctx }) => {
    const at = ctx.clock.now();
    return { at: at.toISOString(), byCountry: await readUsageMetrics(ctx.sql, at) };
  }),

  /**
   * What Facebook gained from WhatsApp's data and lost to opt-outs, per consent regime
   * (the messenger's regime, e.g. from its `share.status`; omitted: one group `all`):
   * extra linked profiles, audience match-rate lift, extra suggestions, device-targetable
   * profiles, and links/memberships withdrawn (src/gains/view.ts).
   */
  gains: adminProcedure
    .input(z.object({ regime: regimeInputSchema.optional() }).default({}))
    .query(async ({ ctx, input }) => readGains(ctx.sql, ctx.clock.now(), input.regime)),

  /**
   * The advertisers, and for one of them (the first when none is named) its
   * audiences exactly as that advertiser sees them: names, rows uploaded and an
   * approximate size range — never members, matches or hashes.
   */
  advertiserView: adminProcedure
    .input(z.object({ advertiserId: z.uuid().optional() }).default({}))
    .output(advertiserViewOutput)
    .query(async ({ ctx, input }) => {
      const advertisers = await ctx.db
        .select({
          id: advertisersTable.id,
          name: advertisersTable.name,
          audiences: ctx.db.$count(audiencesTable, eq(audiencesTable.advertiserId, advertisersTable.id)),
        })
        .from(advertisersTable)
        .orderBy(asc(advertisersTable.createdAt), asc(advertisersTable.id));
      const chosen = input.advertiserId ? advertisers.find((a) => a.id === input.advertiserId) : advertisers[0];
      const selected = chosen
        ? {
            advertiserId: chosen.id,
            name: chosen.name,
            audiences: (await audienceSummaries(ctx.sql, chosen.id)).map((a) => advertiserView(ctx, a)),
          }
        : null;
      return {
        advertisers: advertisers.map((a) => ({ advertiserId: a.id, name: a.name, audiences: a.audiences })),
        selected,
      };
    }),
} satisfies TRPCRouterRecord;
