import { TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { impressionsByAudience, serveAd } from "../storage/audiences";
import { deviceSegmentFor } from "../storage/device-targeting";
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

  /**
   * The device segment ads may target for a profile (simulation, dashboard, demo): the
   * phone model its linked WhatsApp account uses and the platform it implies, only
   * when that model is held for `ads` now (audited as `device-target`). Refused with
   * FORBIDDEN otherwise: no linked account, or its device data may not serve ads.
   */
  deviceTarget: adminProcedure.input(z.object({ profileId: z.number().int().min(0) })).query(async ({ ctx, input }) => {
    const segment = await deviceSegmentFor(ctx.sql, input.profileId, ctx.clock.now());
    if (!segment) {
      throw new TRPCError({ code: "FORBIDDEN", message: "no device data may serve ads for this profile (not linked, or not shared for ads)" });
    }
    return { profileId: input.profileId, ...segment };
  }),

  /** Impressions per audience of the calling advertiser: counts only, never who saw them. */
  impressions: advertiserProcedure.query(async ({ ctx }) => ({ audiences: await impressionsByAudience(ctx.sql, ctx.advertiserId) })),
} satisfies TRPCRouterRecord;
