import { TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { businessChoice } from "@handshake/consent";
import { acceptedMessages, businessReports } from "@handshake/db/messenger-schema";
import { drizzleOn } from "@handshake/db/client";
import { and, asc, count, eq, isNotNull } from "drizzle-orm";
import { z } from "zod";
import { UnknownAccount, type ConsentChoice } from "../storage/consent";
import { deviceProcedure, refusalError, type Context } from "../trpc";

const businessInput = z.object({ businessId: z.uuid() });

async function choose(
  ctx: Context & { device: { accountId: string } },
  businessId: string,
  kind: Extract<ConsentChoice, { businessAccountId: string }>["kind"],
) {
  let business;
  try {
    business = await ctx.services.consent.get(businessId);
  } catch (error) {
    if (error instanceof UnknownAccount) throw new TRPCError({ code: "NOT_FOUND", message: "no such business" });
    throw error;
  }
  if (business.account.kind !== "business") {
    throw new TRPCError({ code: "BAD_REQUEST", message: "that account is not a business account" });
  }
  const result = await ctx.services.consent.record(ctx.device.accountId, { kind, businessAccountId: businessId }, ctx.services.clock.now());
  if (!result.ok) throw refusalError(result.refusal);
  ctx.services.logger.info({ accountId: ctx.device.accountId, businessId, choice: kind }, "business choice");
  return { businessId, ...businessChoice(result.state, businessId) };
}

export const businessRouter = {
  /** Nothing from this business is delivered any more. */
  block: deviceProcedure.input(businessInput).mutation(({ ctx, input }) => choose(ctx, input.businessId, "business-blocked")),
  /** Deliver again (a marketing opt-out made earlier stays). */
  unblock: deviceProcedure
    .input(businessInput)
    .mutation(({ ctx, input }) => choose(ctx, input.businessId, "business-unblocked")),
  /**
   * `receive: false` stops marketing from this business while keeping transactional
   * messages (receipts, flight status…); `receive: true` undoes it. Both are recorded.
   */
  marketing: deviceProcedure
    .input(businessInput.extend({ receive: z.boolean() }))
    .mutation(({ ctx, input }) => choose(ctx, input.businessId, input.receive ? "marketing-opted-in" : "marketing-opted-out")),
  /**
   * Report a message this business sent as transactional that was marketing. Only a
   * message the business sent to this account as transactional can be reported, once;
   * reports count against the business in `business.stats`.
   */
  reportMarketing: deviceProcedure
    .input(businessInput.extend({ messageId: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      const { db, clock } = ctx.services;
      // Accepted messages live on the recipient's (the reporter's) shard database.
      const [sent] = await drizzleOn(ctx.services.shards.sqlFor(ctx.device.accountId))
        .select({ category: acceptedMessages.category })
        .from(acceptedMessages)
        .where(
          and(
            eq(acceptedMessages.senderAccountId, input.businessId),
            eq(acceptedMessages.messageId, input.messageId),
            eq(acceptedMessages.recipientAccountId, ctx.device.accountId),
          ),
        );
      if (!sent) throw new TRPCError({ code: "NOT_FOUND", message: "this business sent you no message with that id" });
      if (!sent.category?.startsWith("transactional:")) {
        throw new TRPCError({ code: "BAD_REQUEST", message: `that message was not sent as transactional (${sent.category ?? "no category"})` });
      }
      const inserted = await db
        .insert(businessReports)
        .values({
          reporterAccountId: ctx.device.accountId,
          businessAccountId: input.businessId,
          messageId: input.messageId,
          declaredCategory: sent.category,
          reportedAt: clock.now(),
        })
        .onConflictDoNothing();
      if (inserted.count === 0) throw new TRPCError({ code: "CONFLICT", message: "you already reported this message" });
      ctx.services.logger.info({ accountId: ctx.device.accountId, businessId: input.businessId }, "transactional message reported as marketing");
      return { businessId: input.businessId, messageId: input.messageId, declaredCategory: sent.category };
    }),
  /**
   * The calling business's standing: messages accepted per category (30-day horizon
   * of the queue's id log), recipients currently opted out of its marketing, blocks,
   * and reports of "transactional" messages that were marketing.
   */
  stats: deviceProcedure.query(async ({ ctx }) => {
    const { db, sql } = ctx.services;
    const me = ctx.device.accountId;
    const { account } = await ctx.services.consent.get(me);
    if (account.kind !== "business") throw new TRPCError({ code: "FORBIDDEN", message: "only a business account has business stats" });
    const [sent, choices, reports] = await Promise.all([
      // Accepted messages live on their recipients' shard databases: summed over all.
      Promise.all(
        ctx.services.shards.all.map(({ sql: shardSql }) =>
          drizzleOn(shardSql)
            .select({ category: acceptedMessages.category, n: count() })
            .from(acceptedMessages)
            .where(and(eq(acceptedMessages.senderAccountId, me), isNotNull(acceptedMessages.category)))
            .groupBy(acceptedMessages.category),
        ),
      ).then((perDatabase) => sumByCategory(perDatabase.map((rows) => rows.map((row) => ({ category: row.category!, n: row.n }))))),
      // Raw: the latest choice per recipient is a `distinct on`, counted in one round trip.
      sql<{ marketing_opted_out: number; blocked: number }[]>`
        with latest_marketing as (
          select distinct on (account_id) account_id, kind from consent_events
          where business_account_id = ${me} and kind in ('marketing-opted-out', 'marketing-opted-in')
          order by account_id, id desc
        ), latest_block as (
          select distinct on (account_id) account_id, kind from consent_events
          where business_account_id = ${me} and kind in ('business-blocked', 'business-unblocked')
          order by account_id, id desc
        )
        select (select count(*)::int from latest_marketing where kind = 'marketing-opted-out') as marketing_opted_out,
               (select count(*)::int from latest_block where kind = 'business-blocked') as blocked`,
      db
        .select({ declaredCategory: businessReports.declaredCategory, n: count() })
        .from(businessReports)
        .where(eq(businessReports.businessAccountId, me))
        .groupBy(businessReports.declaredCategory)
        .orderBy(asc(businessReports.declaredCategory)),
    ]);
    const sentByCategory = Object.fromEntries(sent.map((r) => [r.category, r.n]));
    const transactionalSent = sent.filter((r) => r.category?.startsWith("transactional:")).reduce((a, r) => a + r.n, 0);
    const reported = reports.reduce((a, r) => a + r.n, 0);
    return {
      sentByCategory,
      marketingOptedOut: choices[0]?.marketing_opted_out ?? 0,
      blocked: choices[0]?.blocked ?? 0,
      /** "Transactional" messages recipients reported as marketing, by declared category. */
      reportedAsMarketing: Object.fromEntries(reports.map((r) => [r.declaredCategory, r.n])),
      /** Reported share of the transactional messages sent (0 when none were sent). */
      reportRate: transactionalSent === 0 ? 0 : reported / transactionalSent,
    };
  }),
  /** This account's choice about one business. */
  choice: deviceProcedure.input(businessInput).query(async ({ ctx, input }) => {
    const { state } = await ctx.services.consent.get(ctx.device.accountId);
    return { businessId: input.businessId, ...businessChoice(state, input.businessId) };
  }),
} satisfies TRPCRouterRecord;

function sumByCategory(perDatabase: { category: string; n: number }[][]): { category: string; n: number }[] {
  const sums = new Map<string, number>();
  for (const row of perDatabase.flat()) sums.set(row.category, (sums.get(row.category) ?? 0) + row.n);
  return [...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([category, n]) => ({ category, n }));
}
