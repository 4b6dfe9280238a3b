import { TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { UnknownAccount } from "../storage/consent";
import { serviceTokenProcedure } from "../trpc";

export const abuseRouter = {
  /**
   * A spam signal from the Facebook side (service token): throttle or suspend the
   * account. Recorded with its reason; the latest signal applies.
   */
  report: serviceTokenProcedure
    .input(
      z.object({
        accountId: z.uuid(),
        action: z.enum(["throttle", "suspend", "clear"]),
        reason: z.string().min(1).max(200),
      }),
    )
    .output(z.object({ accountId: z.uuid(), action: z.enum(["throttle", "suspend", "clear"]) }))
    .mutation(async ({ ctx, input }) => {
      try {
        await ctx.services.consent.get(input.accountId);
      } catch (error) {
        if (error instanceof UnknownAccount) throw new TRPCError({ code: "NOT_FOUND", message: "unknown account" });
        throw error;
      }
      await ctx.services.restrictions.record(input.accountId, input.action, input.reason, "facebook-spam-signal", ctx.services.clock.now());
      ctx.services.logger.info({ accountId: input.accountId, action: input.action }, "spam signal applied");
      return { accountId: input.accountId, action: input.action };
    }),
} satisfies TRPCRouterRecord;
