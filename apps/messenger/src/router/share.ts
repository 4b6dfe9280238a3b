import { TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { regimeInputSchema } from "@handshake/consent";
import { z } from "zod";
import { adminProcedure } from "../trpc";

export const shareRouter = {
  /** The share pipeline: pending events, lag, shipper state, regime in force. */
  status: adminProcedure.query(async ({ ctx }) => {
    const shipper = ctx.services.share.shipper ? await ctx.services.share.shipper.status() : null;
    const [pending] = await ctx.services.sql<{ pending: number }[]>`
      select count(*)::int as pending from share_outbox where shipped_at is null`;
    return {
      regime: ctx.services.regime.current,
      shipper: shipper ?? { state: "disabled" as const, pending: pending?.pending ?? 0, lagMs: 0, shipped: 0, consecutiveFailures: 0, lastError: "no FACEBOOK_URL configured" },
    };
  }),

  /**
   * Switches the consent regime (e.g. a regulator's order): every account that
   * accepted the 2016 terms gets a fresh snapshot, so Facebook deletes what it may
   * no longer hold.
   */
  setRegime: adminProcedure.input(z.object({ regime: regimeInputSchema })).mutation(async ({ ctx, input }) => {
    const at = ctx.services.clock.now();
    const events = await ctx.services.share.switchRegime(input.regime, at);
    if (events < 0) throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "regime switch failed" });
    return { regime: input.regime, at: at.toISOString(), events };
  }),
} satisfies TRPCRouterRecord;
