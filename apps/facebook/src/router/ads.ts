import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { impressionsByAudience, serveAd } from "../storage/audiences";
import { adminProcedure, advertiserProcedure } from "../trpc";

export const adsRouter = {
  /**
   * The simulation shows a profile an ad: from one of the audiences it belongs to
   * (at least the audience minimum in size), recording the impression. A
   * membership that came through WhatsApp is used only if the number may serve
   * `ads` right now; that use is audited.
   */
  serve: adminProcedure.input(z.object({ profileId: z.number().int().min(0) })).mutation(async ({ ctx, input }) => {
    const served = await serveAd(ctx.sql, input.profileId, ctx.audienceMinimum, ctx.clock.now());
    return { profileId: input.profileId, served };
  }),

  /** Impressions per audience of the calling advertiser: counts only, never who saw them. */
  impressions: advertiserProcedure.query(async ({ ctx }) => ({ audiences: await impressionsByAudience(ctx.sql, ctx.advertiserId) })),
} satisfies TRPCRouterRecord;
