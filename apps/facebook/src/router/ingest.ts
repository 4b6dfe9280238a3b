import type { TRPCRouterRecord } from "@trpc/server";
import { shareBatchSchema } from "@handshake/consent";
import { z } from "zod";
import { checkForSpam } from "../spam/detector";
import { ingestEvents } from "../storage/ingest";
import { relink } from "../storage/links";
import { linkByName, recordWithdrawalLosses } from "../storage/name-links";
import { serviceProcedure } from "../trpc";

export const ingestRouter = {
  /**
   * Whether ingest can take a batch now (service credential, database up). The
   * shipper probes it while backing off, so catch-up starts as soon as we are back.
   */
  ready: serviceProcedure.output(z.object({ ready: z.literal(true) })).query(async ({ ctx }) => {
    await ctx.sql`select 1`;
    return { ready: true as const };
  }),

  /**
   * A batch of share events from WhatsApp's shipper. Idempotent by event id:
   * a batch sent twice (after a timeout, after a restart) changes nothing the
   * second time. Each field arrives with the purposes it may serve.
   *
   * Trusted as they arrive, also for an event that `occurredAt` long before: this
   * side holds no consent state and no regime, so it cannot judge an old snapshot
   * against today's rules. WhatsApp's shipper narrows every event to what the
   * regime allows when it leaves, and holds clock moves while a batch is in flight
   * (apps/messenger/src/share/ship-check.ts).
   */
  batch: serviceProcedure
    .input(shareBatchSchema)
    .output(z.object({ accepted: z.number().int(), duplicates: z.number().int() }))
    .mutation(async ({ ctx, input }) => {
    // A use cannot precede the share it relies on: the followed clock may trail the
    // messenger's by up to a sync interval right after the clock was moved.
    const latestShare = Math.max(...input.events.map((e) => Date.parse(e.occurredAt)));
    const at = new Date(Math.max(ctx.clock.now().getTime(), latestShare));
    const outcome = await ctx.sql.begin(async (tx) => {
      const ingested = await ingestEvents(tx, input.events);
      await recordWithdrawalLosses(tx, ingested.applied, at);
      const links = await relink(tx, ingested.applied, at);
      const byName = await linkByName(tx, ingested.applied, at);
      const signals = await checkForSpam(tx, ingested.applied, ctx.spam, at);
      return { ...ingested, links, byName, signals: signals.length };
    });
    if (outcome.signals > 0) ctx.spam.notifier?.kick();
    ctx.metrics.ingested(outcome.accepted, outcome.duplicates);
    ctx.logger.debug(
      { accepted: outcome.accepted, duplicates: outcome.duplicates, linked: outcome.links.linked, linkedByName: outcome.byName.linked, signals: outcome.signals },
      "share events ingested",
    );
    return { accepted: outcome.accepted, duplicates: outcome.duplicates };
  }),
} satisfies TRPCRouterRecord;
