import { randomBytes } from "node:crypto";
import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { createAdvertiser } from "../storage/audiences";
import { adminProcedure, hashSecret } from "../trpc";

export const advertisersRouter = {
  /**
   * Registers an advertiser (operators, tests). The credential is shown once:
   * only the SHA-256 of its secret is kept.
   */
  create: adminProcedure.input(z.object({ name: z.string().trim().min(1).max(200) })).mutation(async ({ ctx, input }) => {
    const secret = randomBytes(32).toString("base64url");
    const advertiserId = await createAdvertiser(ctx.sql, input.name, hashSecret(secret));
    return { advertiserId, credential: `adv.${advertiserId}.${secret}` };
  }),
} satisfies TRPCRouterRecord;
