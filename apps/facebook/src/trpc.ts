/**
 * tRPC setup for the Facebook side. Three kinds of caller:
 *  - the messenger's shipper (service token, `Authorization: Bearer <token>`) → ingest;
 *  - advertisers (`Authorization: Bearer adv.<id>.<secret>`) → Custom Audiences; every
 *    response they get is recorded verbatim for the privacy audit;
 *  - operators and the dashboard (`x-admin-token`) → internal views.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { initTRPC, TRPCError } from "@trpc/server";
import type { CreateHTTPContextOptions } from "@trpc/server/adapters/standalone";
import type postgres from "postgres";
import { ZodError } from "zod";
import type { FacebookDatabase } from "@handshake/db/client";
import type { AudienceBudget } from "./audiences/budget";
import type { Clock } from "./clock";
import type { Logger } from "./log";
import type { FacebookMetrics } from "./observability/metrics";
import type { SpamNotifier } from "./spam/notifier";
import type { RefusalCounter } from "./storage/api-refusals";

export interface FacebookServices {
  db: FacebookDatabase;
  sql: postgres.Sql;
  clock: Clock;
  logger: Logger;
  serviceToken: string | null;
  adminToken: string | null;
  spam: { throttlePerDay: number; suspendPerDay: number; notifier: SpamNotifier | null };
  /** Smallest audience an advertiser gets a size for (below: "too small"). */
  audienceMinimum: number;
  /** Secret keying the noise of audience size estimates (see audiences). */
  estimateKey: Buffer;
  /** Per-advertiser budget on audiences and size estimates. */
  audienceBudget: AudienceBudget;
  /** Refused advertiser calls, counted rather than logged one row each. */
  refusals: RefusalCounter;
  /** Prometheus metrics and the per-call span (observability/metrics.ts). */
  metrics: FacebookMetrics;
}

export interface ContextInnerOptions {
  services: FacebookServices;
  bearer?: string | null;
  adminToken?: string | null;
}

export function createContextInner(opts: ContextInnerOptions) {
  return { ...opts.services, services: opts.services, bearer: opts.bearer ?? null, presentedAdminToken: opts.adminToken ?? null };
}

export type Context = ReturnType<typeof createContextInner>;

export function createContext(services: FacebookServices, opts: CreateHTTPContextOptions): Context {
  const header = opts.req.headers.authorization;
  const admin = opts.req.headers["x-admin-token"];
  return createContextInner({
    services,
    bearer: header?.startsWith("Bearer ") ? header.slice(7).trim() : null,
    adminToken: typeof admin === "string" ? admin : null,
  });
}

/**
 * Most calls in one tRPC batch (HTTP `?batch=1`), passed to the adapter as
 * `maxBatchSize`: each call runs its own middleware and queries, so an unbounded
 * batch turns one request into thousands of database round trips.
 */
export const MAX_BATCH_CALLS = 50;

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const isInputError = error.code === "BAD_REQUEST" && cause instanceof ZodError;
    return {
      ...shape,
      // tRPC's own sentence does not say what the cap is.
      message: error.message === "Batch call exceeds maximum size"
        ? `a batch may hold at most ${MAX_BATCH_CALLS} calls; split it into several requests`
        : isInputError
        ? `invalid input: ${cause.issues
            .slice(0, 5)
            .map((i) => `${i.path.map(String).join(".") || "(input)"}: ${i.message}`)
            .join("; ")}${cause.issues.length > 5 ? `; … ${cause.issues.length - 5} more` : ""}`
        : shape.message,
      data: { ...shape.data, stack: undefined },
    };
  },
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
/** Every procedure's base: each call is counted, timed and traced (observability/metrics.ts). */
const procedure = t.procedure.use(({ ctx, path, next }) => ctx.metrics.observeCall(path, next));

export const publicProcedure = procedure;

function same(presented: string | null, expected: string): boolean {
  const a = Buffer.from(presented ?? "");
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The messenger's shipper, holding the shared service token. */
export const serviceProcedure = procedure.use(({ ctx, next }) => {
  if (!ctx.serviceToken) throw new TRPCError({ code: "FORBIDDEN", message: "ingest is disabled: no SERVICE_TOKEN configured" });
  if (!same(ctx.bearer, ctx.serviceToken)) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "service credential required (Authorization: Bearer <service token>)" });
  }
  return next();
});

export const adminProcedure = procedure.use(({ ctx, next }) => {
  if (!ctx.adminToken) throw new TRPCError({ code: "FORBIDDEN", message: "admin procedures are disabled: no ADMIN_TOKEN" });
  if (!same(ctx.presentedAdminToken, ctx.adminToken)) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: ctx.presentedAdminToken ? "wrong admin token" : "admin token required (header x-admin-token)" });
  }
  return next();
});

const ADVERTISER_CREDENTIAL = /^adv\.([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/;

export function hashSecret(secret: string): Buffer {
  return createHash("sha256").update(secret).digest();
}

/** Refusals carry a fixed sentence of ours and no data: they are counted, not logged row by row. */
const REFUSAL_CODES: ReadonlySet<string> = new Set(["UNAUTHORIZED", "TOO_MANY_REQUESTS"]);

/**
 * An advertiser, by its credential. Every response it receives with data or an
 * error about its request is written to `advertiser_api_log` as sent, so the
 * privacy audit can prove none carries a phone number, a hash or a profile id.
 * Refusals (no or a wrong credential, an exhausted budget) are only counted
 * (storage/api-refusals.ts): otherwise anyone without a credential could write
 * rows here at will.
 */
export const advertiserProcedure = procedure.use(async ({ ctx, next, path }) => {
  const match = ctx.bearer ? ADVERTISER_CREDENTIAL.exec(ctx.bearer) : null;
  let advertiserId: string | null = null;
  if (match) {
    const [row] = await ctx.sql<{ credential_hash: Buffer }[]>`select credential_hash from advertisers where id = ${match[1]!}`;
    const candidate = hashSecret(match[2]!);
    if (row && row.credential_hash.length === candidate.length && timingSafeEqual(row.credential_hash, candidate)) {
      advertiserId = match[1]!;
    }
  }
  if (!advertiserId) {
    ctx.refusals.record(path, "UNAUTHORIZED", null);
    throw new TRPCError({ code: "UNAUTHORIZED", message: "advertiser credential required (Authorization: Bearer adv.<id>.<secret>)" });
  }
  const result = await next({ ctx: { ...ctx, advertiserId } });
  if (!result.ok && REFUSAL_CODES.has(result.error.code)) {
    ctx.refusals.record(path, result.error.code, advertiserId);
    return result;
  }
  const response = result.ok ? { data: result.data } : { error: { code: result.error.code, message: result.error.message } };
  await ctx.sql`insert into advertiser_api_log (advertiser_id, path, response)
                values (${advertiserId}, ${path}, ${ctx.sql.json(response as never)})`;
  return result;
});
