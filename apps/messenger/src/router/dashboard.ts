/**
 * Read-only views for the dashboard (apps/web), behind the admin token: the
 * stack at a glance, one account as the messenger holds it (metadata and sizes,
 * never content), account search, and the 2016 rollout day by day. What each
 * view reads lives in src/dashboard/, one module per view.
 */
import { tracked, type TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { findAccounts, findAccountsInput, findAccountsOutput } from "../dashboard/account-search";
import { accountOutput, readAccountView } from "../dashboard/account-view";
import { readRollout, rolloutOutput } from "../dashboard/rollout";
import { countrySchema } from "../dashboard/schemas";
import { overviewOutput, readStackFigures, readStackOverview, withTopCountries } from "../dashboard/stack-overview";
import { adminProcedure } from "../trpc";

const topCountries = z.number().int().min(1).max(50).default(8);
/** A slow dashboard tab skips samples rather than queueing them in the socket. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export const dashboardRouter = {
  /** The stack at a glance: the sample, devices, the queue, live rates, the share pipeline, the clock. */
  overview: adminProcedure
    .input(z.object({ topCountries }).default({ topCountries: 8 }))
    .output(overviewOutput)
    .query(({ ctx, input }) => readStackOverview(ctx.services, input.topCountries)),

  /**
   * The overview as a stream (WebSocket): the figures now, then each second's sample.
   * One read per second serves every listener; samples are `tracked` by sequence
   * number, and a reconnecting client simply gets the newest.
   */
  live: adminProcedure
    .input(z.object({ topCountries, lastEventId: z.string().nullish() }).default({ topCountries: 8 }))
    .subscription(async function* ({ ctx, input, signal }) {
      const { services } = ctx;
      for await (const sample of services.liveOverview.stream(() => readStackFigures(services), signal)) {
        if ((ctx.connection?.bufferedAmount ?? 0) > MAX_BUFFERED_BYTES) continue;
        yield tracked(String(sample.seq), overviewOutput.parse(withTopCountries(sample.value, input.topCountries)));
      }
    }),

  /**
   * One account as the messenger holds it: devices and key counts, envelope
   * metadata and ciphertext sizes (never content), consent history and the share
   * events written for it.
   */
  account: adminProcedure
    .input(z.object({ accountId: z.uuid() }))
    .output(accountOutput.nullable())
    .query(({ ctx, input }) => readAccountView(ctx.services, input.accountId)),

  /** Accounts by phone or id prefix, country and share choice (in id order, at most `limit`). */
  findAccounts: adminProcedure
    .input(findAccountsInput)
    .output(findAccountsOutput)
    .query(({ ctx, input }) => findAccounts(ctx.services.sql, input)),

  /**
   * The 2016 rollout day by day (announcement day and the 30 after it, up to the
   * simulated now): acceptances, unticked boxes, settings opt-outs, holdouts locked
   * out, and per regime how many accounts' data may serve ads / product, decided
   * by @handshake/consent over each account's recorded history.
   */
  rollout: adminProcedure
    .input(z.object({ country: countrySchema.optional() }).default({}))
    .output(rolloutOutput)
    .query(({ ctx, input }) => readRollout(ctx.services, input.country ?? null)),
} satisfies TRPCRouterRecord;
