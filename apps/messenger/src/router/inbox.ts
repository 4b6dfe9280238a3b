import { TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { streamInbox } from "../relay/inbox-stream";
import { queueCall, serviceProcedure } from "../trpc";

const envelopeId = z.string().regex(/^[1-9][0-9]{0,18}$/, { message: "must be an envelope id (a positive integer)" });

/** What `inbox.ack` takes: up to 1,000 ids of envelopes this device received. */
export const ackInput = z.object({ ids: z.array(envelopeId).min(1).max(1000) });

export const inboxRouter = {
  /**
   * This device's envelopes: the stored backlog, then live ones as they arrive.
   * Events are `tracked` by envelope id, so a reconnecting client resumes after
   * the last one it saw (tRPC sends `lastEventId` back by itself).
   *
   * WebSocket only. One stream per connection (a second is refused with
   * TOO_MANY_REQUESTS) and one per device: a newer stream of the same device
   * displaces the older (see `relay/presence.ts`). The stream ends with FORBIDDEN
   * when the account loses service (the acceptance deadline passes); its queue is kept.
   */
  stream: serviceProcedure
    .input(z.object({ lastEventId: envelopeId.nullish() }).optional())
    .subscription(async ({ ctx, input, signal }) => {
      const { services } = ctx;
      if (!ctx.connection) {
        throw new TRPCError({ code: "METHOD_NOT_SUPPORTED", message: "inbox.stream is served over WebSocket only (ws://…/trpc)" });
      }
      // Refused before any database work: a flood of subscriptions costs one error frame each.
      const lease = services.presence.open(ctx.device, ctx.connection);
      signal?.addEventListener("abort", lease, { once: true });
      if (signal?.aborted) lease.release();
      // Written with other devices' within a second; the stream does not wait for it.
      services.lastSeen.touch(ctx.device, services.clock.now());
      services.logger.debug({ accountId: ctx.device.accountId, resume: input?.lastEventId ?? null }, "inbox connected");
      return streamInbox({
        bus: services.bus,
        sql: services.shards.sqlFor(ctx.device.accountId),
        device: ctx.device,
        afterId: input?.lastEventId,
        signal,
        connection: ctx.connection,
        lease,
        logger: services.logger,
        highWaterBytes: services.socketBudget.budgetBytes,
      });
    }),

  /**
   * Acknowledges envelopes after the device has processed (decrypted) them: they
   * are deleted, and each message's sender gets a delivery receipt.
   */
  ack: serviceProcedure
    .input(ackInput)
    .mutation(async ({ ctx, input }) => queueCall(ctx.services.writer.ack(ctx.device, input.ids))),
} satisfies TRPCRouterRecord;
