import { TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { businessChoice } from "@handshake/consent";
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
  /** Stop marketing from this business while keeping transactional messages (receipts, flight status…). */
  marketing: deviceProcedure
    .input(businessInput.extend({ receive: z.literal(false, { message: "only opting out of marketing is supported" }) }))
    .mutation(({ ctx, input }) => choose(ctx, input.businessId, "marketing-opted-out")),
  /** This account's choice about one business. */
  choice: deviceProcedure.input(businessInput).query(async ({ ctx, input }) => {
    const { state } = await ctx.services.consent.get(ctx.device.accountId);
    return { businessId: input.businessId, ...businessChoice(state, input.businessId) };
  }),
} satisfies TRPCRouterRecord;
