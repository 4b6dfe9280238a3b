import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { streamInbox } from "../relay/inbox-stream";
import { touchLastSeen } from "../storage/accounts";
import { serviceProcedure } from "../trpc";

const envelopeId = z.string().regex(/^[1-9][0-9]{0,18}$/, { message: "must be an envelope id (a positive integer)" });

export const inboxRouter = {
  /**
   * This device's envelopes: the stored backlog, then live ones as they arrive.
   * Events are `tracked` by envelope id, so a reconnecting client resumes after
   * the last one it saw (tRPC sends `lastEventId` back by itself).
   */
  stream: serviceProcedure
    .input(z.object({ lastEventId: envelopeId.nullish() }).optional())
    .subscription(async function* ({ ctx, input, signal }) {
      await touchLastSeen(ctx.services.sql, ctx.device, ctx.services.clock.now());
      ctx.services.logger.debug({ accountId: ctx.device.accountId, resume: input?.lastEventId ?? null }, "inbox connected");
      yield* streamInbox({
        bus: ctx.services.bus,
        sql: ctx.services.sql,
        device: ctx.device,
        afterId: input?.lastEventId,
        signal,
        connection: ctx.connection,
      });
    }),

  /**
   * Acknowledges envelopes after the device has processed (decrypted) them: they
   * are deleted, and each message's sender gets a delivery receipt.
   */
  ack: serviceProcedure
    .input(z.object({ ids: z.array(envelopeId).min(1).max(1000) }))
    .mutation(async ({ ctx, input }) => ctx.services.writer.ack(ctx.device, input.ids)),
} satisfies TRPCRouterRecord;
