import { TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { businessCategorySchema, deliveryRefusal, type BusinessCategory } from "@handshake/consent";
import { z } from "zod";
import { base64Bytes, MAX_CIPHERTEXT_BYTES, sendableEnvelopeTypeSchema } from "@handshake/crypto/wire";
import { UnknownAccount } from "../storage/consent";
import { checkSendRestrictions, limit, queueCall, refusalError, serviceProcedure } from "../trpc";

/** How a category travels in the envelope's cleartext metadata. */
export function categoryLabel(category: BusinessCategory): string {
  return category.kind === "marketing" ? "marketing" : `transactional:${category.topic}`;
}

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
  /**
   * Business accounts only, and required for them: what kind of message this is.
   * Travels in cleartext so the recipient's choices can be enforced; the content
   * stays end-to-end encrypted.
   */
  category: businessCategorySchema.optional(),
});

export const messageRouter = {
  /** Stores the envelope durably, then pushes it to the recipient if connected. */
  send: serviceProcedure.input(sendInput).mutation(async ({ ctx, input }) => {
    limit(ctx, "send", `${ctx.device.accountId}:${ctx.device.deviceId}`);
    await checkSendRestrictions(ctx);
    const sender = { id: ctx.device.accountId, kind: ctx.account.kind };
    if (input.category && sender.kind !== "business") {
      throw refusalError(deliveryRefusal(ctx.consentState, sender, input.category)!);
    }
    if (sender.kind === "business") {
      if (!input.category) {
        throw new TRPCError({
          code: "BAD_REQUEST",
          message: "category: business messages must declare a category (transactional with a topic, or marketing)",
        });
      }
      let recipient;
      try {
        recipient = await ctx.services.consent.get(input.recipient.accountId);
      } catch (error) {
        if (error instanceof UnknownAccount) {
          throw new TRPCError({ code: "NOT_FOUND", message: "unknown recipient: no such account or device" });
        }
        throw error;
      }
      // Refused before anything is stored: a blocked business leaves no trace in the queue.
      const refusal = deliveryRefusal(recipient.state, sender, input.category);
      if (refusal) throw refusalError(refusal);
    }
    const content = Buffer.from(input.content, "base64");
    const outcome = await queueCall(
      ctx.services.writer.send({
        sender: ctx.device,
        recipient: input.recipient,
        messageId: input.messageId,
        type: input.type,
        content,
        contentBase64: input.content,
        category: input.category ? categoryLabel(input.category) : null,
      }),
    );
    if (outcome.status === "unknown-recipient") {
      throw new TRPCError({ code: "NOT_FOUND", message: "unknown recipient: no such account or device" });
    }
    ctx.services.logger.debug(
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
