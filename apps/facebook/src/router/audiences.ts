import { TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { advertiserView } from "../audiences/view";
import { audienceSummaries, createAudience, uploadHashes } from "../storage/audiences";
import { advertiserProcedure } from "../trpc";

/** Most hashes in one upload call (Facebook's documented batch size for Custom Audiences). */
export const MAX_HASHES_PER_UPLOAD = 10_000;

const hashRow = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, { error: "must be the SHA-256 hex (64 hex digits) of a phone number's E.164 digits without '+'" })
  .transform((hex) => hex.toLowerCase());

const audienceId = z.uuid({ error: "audienceId must be a UUID" });

const notFound = () => new TRPCError({ code: "NOT_FOUND", message: "no such audience" });

export const audiencesRouter = {
  /** A new, empty Custom Audience (spends the advertiser's audience budget). */
  create: advertiserProcedure.input(z.object({ name: z.string().trim().min(1).max(200) })).mutation(async ({ ctx, input }) => {
    await ctx.audienceBudget.spend("audienceCreate", ctx.advertiserId);
    return { audienceId: await createAudience(ctx.sql, ctx.advertiserId, input.name) };
  }),

  /**
   * Adds up to 10,000 hashed phone numbers to an audience (call again for more;
   * rows already in the list are kept once) and re-matches it. Each upload spends
   * the advertiser's estimate budget: it yields a freshly noised size.
   */
  upload: advertiserProcedure
    .input(
      z.object({
        audienceId,
        hashes: z
          .array(hashRow)
          .min(1, { error: "hashes: give at least one row" })
          .max(MAX_HASHES_PER_UPLOAD, {
            error: (issue) =>
              `at most ${MAX_HASHES_PER_UPLOAD.toLocaleString("en-US")} hashes per upload call (got ${Array.isArray(issue.input) ? issue.input.length.toLocaleString("en-US") : "more"}); split the list over several calls`,
          }),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await ctx.audienceBudget.spend("audienceUpload", ctx.advertiserId);
      const outcome = await uploadHashes(ctx.sql, ctx.advertiserId, input.audienceId, input.hashes, ctx.clock.now());
      if (!outcome) throw notFound();
      ctx.logger.debug({ audienceId: input.audienceId, rows: input.hashes.length, ...outcome }, "audience uploaded and matched");
      const [audience] = await audienceSummaries(ctx.sql, ctx.advertiserId, input.audienceId);
      if (!audience) throw notFound();
      return { receivedRows: input.hashes.length, ...advertiserView(ctx, audience) };
    }),

  /** One of the advertiser's audiences; another advertiser's is NOT_FOUND, as if it did not exist. */
  get: advertiserProcedure.input(z.object({ audienceId })).query(async ({ ctx, input }) => {
    const [audience] = await audienceSummaries(ctx.sql, ctx.advertiserId, input.audienceId);
    if (!audience) throw notFound();
    return advertiserView(ctx, audience);
  }),

  /** All of the advertiser's audiences, oldest first. */
  list: advertiserProcedure.query(async ({ ctx }) => {
    const audiences = await audienceSummaries(ctx.sql, ctx.advertiserId);
    return { audiences: audiences.map((a) => advertiserView(ctx, a)) };
  }),
} satisfies TRPCRouterRecord;
