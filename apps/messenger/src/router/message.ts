import { TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { base64Bytes, MAX_CIPHERTEXT_BYTES, sendableEnvelopeTypeSchema } from "@handshake/crypto/wire";
import { deviceProcedure, limit } from "../trpc";

export const sendInput = z.object({
  /** Chosen by the sender; sending the same id again is a no-op that returns the first result. */
  messageId: z.uuid(),
  recipient: z.object({
    accountId: z.uuid(),
    deviceId: z.number().int().min(1).max(127).default(1),
  }),
  type: sendableEnvelopeTypeSchema,
  /** base64 ciphertext, at most 64 KiB once decoded. The server never looks inside. */
  content: base64Bytes(1, MAX_CIPHERTEXT_BYTES),
});

export const messageRouter = {
  /** Stores the envelope durably, then pushes it to the recipient if connected. */
  send: deviceProcedure.input(sendInput).mutation(async ({ ctx, input }) => {
    limit(ctx, "send", `${ctx.device.accountId}:${ctx.device.deviceId}`);
    const content = Buffer.from(input.content, "base64");
    const outcome = await ctx.writer.send({
      sender: ctx.device,
      recipient: input.recipient,
      messageId: input.messageId,
      type: input.type,
      content,
      category: null,
    });
    if (outcome.status === "unknown-recipient") {
      throw new TRPCError({ code: "NOT_FOUND", message: "unknown recipient: no such account or device" });
    }
    ctx.logger.debug(
      { messageId: input.messageId, to: input.recipient.accountId, bytes: content.length, status: outcome.status },
      "message accepted",
    );
    return {
      envelopeId: outcome.envelopeId,
      serverTimestamp: outcome.serverTimestamp,
      duplicate: outcome.status === "duplicate",
    };
  }),
} satisfies TRPCRouterRecord;
