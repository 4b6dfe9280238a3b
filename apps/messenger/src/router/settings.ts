import type { TRPCRouterRecord } from "@trpc/server";
import { canChangeShareChoice, canUseService, mayShare, PURPOSES, type Purpose } from "@handshake/consent";
import { z } from "zod";
import { deviceProcedure, refusalError } from "../trpc";

export const settingsRouter = {
  /** Settings > Account > "Share my account info": the current choice and until when it can change. */
  shareAccountInfo: deviceProcedure.query(async ({ ctx }) => {
    const now = ctx.services.clock.now();
    const { state } = await ctx.services.consent.get(ctx.device.accountId);
    return {
      shareWithFacebook: state.share?.shareWithFacebook ?? null,
      method: state.share?.method ?? null,
      canChange: canChangeShareChoice(state, now),
      finalAt: state.share?.finalAt.toISOString() ?? null,
    };
  }),

  /**
   * Turn sharing off, within the window after accepting. Irreversible, as the app
   * warned: there is no way to turn it back on, so only `false` is accepted.
   */
  setShareAccountInfo: deviceProcedure
    .input(
      z.object({
        shareWithFacebook: z.literal(false, { message: "sharing can only be turned off; the choice is irreversible" }),
      }),
    )
    .mutation(async ({ ctx }) => {
      const at = ctx.services.clock.now();
      const result = await ctx.services.consent.record(ctx.device.accountId, { kind: "share-opted-out" }, at);
      if (!result.ok) throw refusalError(result.refusal);
      ctx.services.logger.info({ accountId: ctx.device.accountId }, "share opt-out in settings");
      return { shareWithFacebook: false, method: result.state.share?.method ?? null, at: at.toISOString() };
    }),

  /**
   * What the rules decide for this account right now, under the regime in force:
   * for each purpose whether account data may be shared, and service access.
   */
  decisions: deviceProcedure.query(async ({ ctx }) => {
    const now = ctx.services.clock.now();
    const { state } = await ctx.services.consent.get(ctx.device.accountId);
    const purposes = Object.fromEntries(PURPOSES.map((p) => [p, mayShare(state, p, now, ctx.services.regime.current)])) as Record<
      Purpose,
      boolean
    >;
    return {
      at: now.toISOString(),
      regime: ctx.services.regime.current,
      purposes,
      canUseService: canUseService(state, now, ctx.services.timeline),
      canChangeShareChoice: canChangeShareChoice(state, now),
    };
  }),
} satisfies TRPCRouterRecord;
