/**
 * tRPC setup: context (in two layers), procedures and the error shape.
 *
 * `createContextInner` takes everything explicitly — tests call it directly
 * through `createCaller`. `createContext` derives the session from the transport:
 * `Authorization: Bearer …` on HTTP, `connectionParams.token` on WebSocket.
 */
import type { LastSeenRecorder } from "./storage/last-seen";
import { initTRPC, TRPCError } from "@trpc/server";
import type { CreateHTTPContextOptions } from "@trpc/server/adapters/standalone";
import type { CreateWSSContextFnOptions } from "@trpc/server/adapters/ws";
import type postgres from "postgres";
import type { WebSocket } from "ws";
import { ZodError } from "zod";
import { timingSafeEqual } from "node:crypto";
import { serviceRefusal, type Refusal, type Timeline } from "@handshake/consent";
import type { MessengerDatabase } from "@handshake/db/client";
import { authFailureMessages, type Authenticator, type AuthResult } from "./auth/authenticate";
import type { DeviceSockets } from "./auth/device-sockets";
import type { PhoneCarrier } from "./auth/phone-carrier";
import type { Clock } from "./clock";
import type { Logger } from "./log";
import type { NodeRateLimitName, RateLimiter, SharedRateLimitName } from "./rate-limits";
import { RateLimitExceeded } from "./rate-limits";
import { QueueUnavailable } from "./storage/queue";
import type { InboxBus } from "./relay/bus";
import type { InboxPresence } from "./relay/presence";
import type { SocketBudget } from "./relay/socket-budget";
import type { RateSampler } from "./metrics/rate-sampler";
import type { LiveFigures } from "./dashboard/live-figures";
import type { StackFigures } from "./dashboard/stack-overview";
import type { SharePipeline } from "./share/pipeline";
import type { RegulatoryWatch } from "./share/regulatory-dates";
import type { ConsentStore } from "./storage/consent";
import type { RegimeHistory } from "./storage/regimes";
import type { Restriction, RestrictionStore } from "./storage/restrictions";
import type { ShardedQueueWriter } from "./storage/queue";
import type { ShardDatabases } from "./shards/shard-databases";

/** Long-lived parts of the server, shared by every request. */
export interface MessengerServices {
  db: MessengerDatabase;
  sql: postgres.Sql;
  clock: Clock;
  bus: InboxBus;
  /** Open inbox streams: caps per connection, one per device, ended when service stops. */
  presence: InboxPresence;
  /** Unsent bytes per WebSocket: streams pause over it, sockets that stay over are closed. */
  socketBudget: SocketBudget;
  /** One queue writer per shard database (one without a shard map). */
  writer: ShardedQueueWriter;
  /** The shard map's pools; `sql` and `db` are its home database. */
  shards: ShardDatabases;
  limiter: RateLimiter;
  /** Devices' last-seen times, written once a second. */
  lastSeen: LastSeenRecorder;
  authenticator: Authenticator;
  /** This node's WebSockets per device (a replaced device is disconnected). */
  deviceSockets: DeviceSockets;
  /** Delivers verification codes; null when none is configured (no registration then). */
  carrier: PhoneCarrier | null;
  logger: Logger;
  shardCount: number;
  consent: ConsentStore;
  /** The consent regime over time (`.current` now; switched at run time through the share pipeline). */
  regime: RegimeHistory;
  timeline: Timeline;
  /** Admin token from the environment; admin procedures are refused when unset. */
  adminToken: string | null;
  /** Shared secret between the messenger and the Facebook side (spam signals in). */
  serviceToken: string | null;
  share: SharePipeline;
  /** Handles the regulators' dates of a dated regime as the simulation clock passes them. */
  regulatory: RegulatoryWatch;
  restrictions: RestrictionStore;
  /** Counter samples behind the dashboard's live rates. */
  rates: RateSampler;
  /** The dashboard overview's figures, sampled once for every live listener. */
  liveOverview: LiveFigures<StackFigures>;
}

export interface ContextInnerOptions {
  services: MessengerServices;
  auth?: AuthResult;
  /** The WebSocket carrying this call, when there is one (for backpressure). */
  connection?: WebSocket | null;
  remoteAddress?: string;
  /** The admin token the caller presented, if any. */
  adminToken?: string | null;
  /** The service token the caller presented (header x-service-token), if any. */
  serviceToken?: string | null;
}

/**
 * The context is deliberately small: tRPC copies it in every middleware, and
 * spreading every service into it cost a third of the relay's CPU (measured with
 * `pnpm bench relay --profile`). Long-lived parts stay behind `ctx.services`.
 */
export function createContextInner(opts: ContextInnerOptions) {
  return {
    services: opts.services,
    auth: opts.auth ?? ({ ok: false, reason: "missing" } as AuthResult),
    connection: opts.connection ?? null,
    remoteAddress: opts.remoteAddress ?? "local",
    presentedAdminToken: opts.adminToken ?? null,
    presentedServiceToken: opts.serviceToken ?? null,
  };
}

export type Context = ReturnType<typeof createContextInner>;

export async function createContext(
  services: MessengerServices,
  opts: CreateHTTPContextOptions | CreateWSSContextFnOptions,
): Promise<Context> {
  const isWebSocket = "res" in opts && typeof (opts.res as WebSocket).send === "function" && !("setHeader" in opts.res);
  let credential: string | undefined;
  let adminToken: string | undefined;
  let serviceToken: string | undefined;
  if (isWebSocket) {
    const token = opts.info.connectionParams?.token;
    credential = typeof token === "string" ? token : undefined;
    const admin = opts.info.connectionParams?.adminToken;
    adminToken = typeof admin === "string" ? admin : undefined;
  } else {
    const header = opts.req.headers.authorization;
    credential = header?.startsWith("Bearer ") ? header.slice("Bearer ".length).trim() : undefined;
    const admin = opts.req.headers["x-admin-token"];
    adminToken = typeof admin === "string" ? admin : undefined;
    const service = opts.req.headers["x-service-token"];
    serviceToken = typeof service === "string" ? service : undefined;
  }
  const auth = await services.authenticator.authenticate(credential);
  if (isWebSocket && auth.ok) services.deviceSockets.track(auth.device, opts.res as WebSocket);
  return createContextInner({
    services,
    auth,
    connection: isWebSocket ? (opts.res as WebSocket) : null,
    remoteAddress: opts.req.socket.remoteAddress ?? "unknown",
    adminToken: adminToken ?? null,
    serviceToken: serviceToken ?? null,
  });
}

/**
 * Most calls in one tRPC batch (HTTP `?batch=1`, or an array in one WebSocket
 * frame), passed to both adapters as `maxBatchSize`: each call authenticates and
 * queries on its own, so an unbounded batch turns one request into thousands.
 */
export const MAX_BATCH_CALLS = 50;

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const isInputError = error.code === "BAD_REQUEST" && cause instanceof ZodError;
    return {
      ...shape,
      // A readable sentence instead of a JSON dump of zod issues; tRPC's batch refusal does not say the cap.
      message: isInputError
        ? `invalid input: ${describeIssues(cause)}`
        : error.message === "Batch call exceeds maximum size"
          ? `a batch may hold at most ${MAX_BATCH_CALLS} calls; split it into several requests`
          : shape.message,
      data: {
        ...shape.data,
        stack: undefined,
        issues: isInputError ? cause.issues.map((i) => ({ path: i.path.map(String), message: i.message })) : undefined,
        retryAfterMs: cause instanceof RateLimitExceeded ? cause.retryAfterMs : undefined,
        /** Machine-readable reason of a consent refusal (see @handshake/consent RefusalCode). */
        reason: cause instanceof ConsentRefused ? cause.reason : undefined,
      },
    };
  },
});

/** "recipient.accountId: Invalid UUID; content: must be standard base64" */
function describeIssues(error: ZodError): string {
  return error.issues.map((issue) => `${issue.path.map(String).join(".") || "(input)"}: ${issue.message}`).join("; ");
}

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure;

/** Requires a valid device credential; puts the device on `ctx.device`. */
export const deviceProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.auth.ok) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: authFailureMessages[ctx.auth.reason] });
  }
  return next({ ctx: { device: ctx.auth.device } });
});

/**
 * Requires that the account may use the service now: after the acceptance deadline,
 * only accounts that accepted the 2016 terms can send and receive.
 */
export const serviceProcedure = t.procedure.use(async ({ ctx, next }) => {
  // deviceProcedure's check, in the same middleware: each middleware level copies the
  // call's options and context (the relay's hottest procedures, send and ack, pass here).
  if (!ctx.auth.ok) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: authFailureMessages[ctx.auth.reason] });
  }
  const device = ctx.auth.device;
  // A fresh cache entry needs no promise: every send and ack passes here.
  const { account, state } = ctx.services.consent.fresh(device.accountId) ?? (await ctx.services.consent.get(device.accountId));
  const refusal = serviceRefusal(state, ctx.services.clock.now(), ctx.services.timeline);
  if (refusal) throw serviceRefusedError(refusal);
  return next({ ctx: { device, account, consentState: state } });
});

/**
 * A queue write that could not commit becomes SERVICE_UNAVAILABLE (HTTP 503) with the
 * reason: the client retries with the same ids (send is idempotent by message id).
 */
export function queueCall<T>(call: Promise<T>): Promise<T> {
  return call.catch((error: unknown) => {
    if (error instanceof QueueUnavailable) throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: error.message, cause: error });
    throw error;
  });
}

/** The error of an account that may not use the service now (also ends its open inbox stream). */
export function serviceRefusedError(refusal: Refusal): TRPCError {
  return new TRPCError({
    code: "FORBIDDEN",
    message: `${refusal.message} (terms.accept); messages for you are kept meanwhile.`,
    cause: new ConsentRefused(refusal),
  });
}

function tokenMatches(presented: string | null, expected: string): boolean {
  const a = Buffer.from(presented ?? "");
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Requires the admin token (header `x-admin-token`, or connectionParams.adminToken). */
export const adminProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.services.adminToken) {
    throw new TRPCError({ code: "FORBIDDEN", message: "admin procedures are disabled: the server has no ADMIN_TOKEN" });
  }
  if (!tokenMatches(ctx.presentedAdminToken, ctx.services.adminToken)) {
    throw new TRPCError({
      code: "UNAUTHORIZED",
      message: ctx.presentedAdminToken ? "wrong admin token" : "admin token required (header x-admin-token)",
    });
  }
  return next();
});

/** Service-to-service calls from the Facebook side (header `x-service-token`). */
export const serviceTokenProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.services.serviceToken) {
    throw new TRPCError({ code: "FORBIDDEN", message: "service calls are disabled: the server has no SERVICE_TOKEN" });
  }
  if (!tokenMatches(ctx.presentedServiceToken, ctx.services.serviceToken)) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "service token required (header x-service-token)" });
  }
  return next();
});

/** A consent rule said no; carried as the cause of a TRPCError. */
export class ConsentRefused extends Error {
  readonly reason: Refusal["code"];
  constructor(refusal: Refusal) {
    super(refusal.message);
    this.reason = refusal.code;
  }
}

/** Turns a refusal from the rules into a clear API error. */
export function refusalError(refusal: Refusal): TRPCError {
  const code =
    refusal.code === "unknown-policy-version" || refusal.code === "not-a-business" || refusal.code === "invalid-time"
      ? "BAD_REQUEST"
      : refusal.code === "business-blocked" || refusal.code === "marketing-opted-out" || refusal.code === "terms-not-accepted"
        ? "FORBIDDEN"
        : "CONFLICT";
  return new TRPCError({ code, message: refusal.message, cause: new ConsentRefused(refusal) });
}

/**
 * Refuses sending for a suspended account; a throttled one gets the small `sendThrottled` budget.
 * Synchronous when the account's entry is cached and fresh (every send asks).
 */
export function checkSendRestrictions(ctx: Context & { device: { accountId: string; deviceId: number } }): void | Promise<void> {
  const restrictions = ctx.services.restrictions;
  const cached = restrictions.fresh(ctx.device.accountId);
  if (cached) return applyRestriction(ctx, cached.restriction);
  return restrictions.current(ctx.device.accountId).then((restriction) => applyRestriction(ctx, restriction));
}

function applyRestriction(ctx: Context & { device: { accountId: string; deviceId: number } }, restriction: Restriction | null): void {
  if (!restriction) return;
  if (restriction.action === "suspend") {
    throw new TRPCError({ code: "FORBIDDEN", message: `this account is suspended for spam (${restriction.reason})` });
  }
  ctx.services.limiter.consume("sendThrottled", `${ctx.device.accountId}:${ctx.device.deviceId}`);
}

/** Consumes one token of a per-node catalogue limit keyed by `key`, or refuses the call. */
export function limit(ctx: Context, name: NodeRateLimitName, key: string, cost = 1): void {
  ctx.services.limiter.consume(name, key, cost);
}

/** Consumes one token of a shared (database) catalogue limit keyed by `key`, or refuses the call. */
export function limitShared(ctx: Context, name: SharedRateLimitName, key: string, cost = 1): Promise<void> {
  return ctx.services.limiter.consumeShared(name, key, cost);
}
