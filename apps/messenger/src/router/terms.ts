import type { TRPCRouterRecord } from "@trpc/server";
import {
  canUseService,
  policyInForce,
  POLICIES,
  serviceRefusal,
  shareBoxFor,
  SHARING_POLICY_VERSION,
} from "@handshake/consent";
import { z } from "zod";
import { deviceProcedure, refusalError } from "../trpc";

export const termsRouter = {
  /** The terms in force, what this account accepted, and what it must do. */
  current: deviceProcedure.query(async ({ ctx }) => {
    const now = ctx.services.clock.now();
    const { state } = await ctx.services.consent.get(ctx.device.accountId);
    const inForce = policyInForce(now, ctx.services.timeline);
    const refusal = serviceRefusal(state, now, ctx.services.timeline);
    return {
      now: now.toISOString(),
      inForce: { version: inForce, title: POLICIES[inForce].title },
      accepted: state.terms ? { version: state.terms.version, at: state.terms.acceptedAt.toISOString() } : null,
      mustAccept: state.terms?.version !== inForce,
      /** Existing users keep service until then without accepting. */
      acceptanceDeadline: ctx.services.timeline.acceptanceDeadline.toISOString(),
      serviceAvailable: canUseService(state, now, ctx.services.timeline),
      serviceRefusal: refusal?.message ?? null,
      /** The share box shown with the 2016 terms for this account. */
      shareBox: inForce === SHARING_POLICY_VERSION ? shareBoxFor(state, now, ctx.services.regime.current, ctx.services.timeline) : null,
    };
  }),

  /**
   * Accept the terms in force. With the 2016 terms, `shareWithFacebook` is the state
   * of the box when the user pressed "Agree"; accounts registered after the change
   * have no box and must accept with `true`.
   */
  accept: deviceProcedure
    .input(z.object({ version: z.string().min(1).max(32), shareWithFacebook: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      const at = ctx.services.clock.now();
      const result = await ctx.services.consent.record(ctx.device.accountId, { kind: "terms-accepted", ...input }, at);
      if (!result.ok) throw refusalError(result.refusal);
      ctx.services.logger.info(
        { accountId: ctx.device.accountId, version: input.version, share: result.state.share?.method ?? null },
        "terms accepted",
      );
      return {
        version: input.version,
        acceptedAt: at.toISOString(),
        share: result.state.share
          ? {
              shareWithFacebook: result.state.share.shareWithFacebook,
              method: result.state.share.method,
              finalAt: result.state.share.finalAt.toISOString(),
            }
          : null,
      };
    }),
} satisfies TRPCRouterRecord;
