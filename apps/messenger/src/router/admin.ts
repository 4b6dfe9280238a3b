import { TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { ClockMovedBackwards, isAdjustable } from "../clock";
import { saveSimClock } from "../storage/clock";
import { adminProcedure, publicProcedure, type Context } from "../trpc";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Moves the clock; returns the time before the move. */
function moved(clock: { now(): Date; set(at: Date): void; advance(ms: number): void }, move: (clock: { set(at: Date): void; advance(ms: number): void }) => void): Date {
  const before = clock.now();
  try {
    move(clock);
  } catch (error) {
    if (error instanceof ClockMovedBackwards) throw new TRPCError({ code: "BAD_REQUEST", message: error.message });
    throw error;
  }
  return before;
}

async function moveClock(ctx: Context, move: (clock: { set(at: Date): void; advance(ms: number): void }) => void) {
  if (!isAdjustable(ctx.services.clock)) {
    throw new TRPCError({ code: "PRECONDITION_FAILED", message: "this server runs on a fixed clock" });
  }
  const clock = ctx.services.clock;
  // Not past a consent change Facebook has not received (packages/consent CONSENT_PROPAGATION_MS),
  // and not while a batch checked at the old time is in flight (share/ship-check.ts).
  const shipper = ctx.services.share.shipper;
  const { result: before, outran } = shipper ? await shipper.afterConsentShipped(() => moved(clock, move)) : { result: moved(clock, move), outran: null };
  if (outran) {
    // Facebook down is a scenario (its data goes stale on purpose); a healthy pipeline this slow is news.
    ctx.services.logger[outran === "timeout" ? "warn" : "debug"]({ outran }, "simulation clock moved past consent changes Facebook has not received");
  }
  if ("state" in ctx.services.clock && typeof ctx.services.clock.state === "function") {
    await saveSimClock(ctx.services.sql, (ctx.services.clock as { state(): { simMs: number; realMs: number } }).state());
  }
  const after = ctx.services.clock.now();
  // A regulator's date crossed (e.g. Hamburg, 2016-09-27): Facebook must delete or narrow what it holds.
  const regulatoryEvents = await ctx.services.regulatory.check(after);
  // The simulator moves the clock four times a second: only a move across a regulator's date is news.
  ctx.services.logger[regulatoryEvents > 0 ? "info" : "debug"](
    { from: before.toISOString(), to: after.toISOString(), regulatoryEvents },
    "simulation clock moved",
  );
  // Open inbox streams of accounts that lost service (a deadline passed) end now.
  await ctx.services.presence.clockMoved();
  return { now: after.toISOString(), movedMs: after.getTime() - before.getTime(), regulatoryEvents };
}

export const clockRouter = {
  /** Simulated time (anyone may read it). */
  now: publicProcedure.query(({ ctx }) => ({ now: ctx.services.clock.now().toISOString() })),
} satisfies TRPCRouterRecord;

export const adminRouter = {
  /** Jump the simulation clock to a later instant. */
  setClock: adminProcedure
    .input(z.object({ at: z.iso.datetime({ offset: true }) }))
    .mutation(({ ctx, input }) => moveClock(ctx, (clock) => clock.set(new Date(input.at)))),
  /** Move the simulation clock forward, e.g. `{ days: 29 }`. */
  advanceClock: adminProcedure
    .input(
      z
        .object({
          days: z.number().min(0).max(3650).optional(),
          ms: z.number().int().min(0).max(3650 * DAY_MS).optional(),
        })
        .refine((v) => v.days !== undefined || v.ms !== undefined, { message: "give days or ms" }),
    )
    .mutation(({ ctx, input }) => moveClock(ctx, (clock) => clock.advance((input.days ?? 0) * DAY_MS + (input.ms ?? 0)))),
} satisfies TRPCRouterRecord;
