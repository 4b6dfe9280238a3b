/**
 * tRPC setup: context (in two layers), procedures and the error shape.
 *
 * `createContextInner` takes everything explicitly — tests call it directly
 * through `createCaller`. `createContext` derives the session from the transport:
 * `Authorization: Bearer …` on HTTP, `connectionParams.token` on WebSocket.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import type { CreateHTTPContextOptions } from "@trpc/server/adapters/standalone";
import type { CreateWSSContextFnOptions } from "@trpc/server/adapters/ws";
import type postgres from "postgres";
import type { WebSocket } from "ws";
import { ZodError } from "zod";
import type { MessengerDatabase } from "@handshake/db/client";
import { authFailureMessages, type Authenticator, type AuthResult } from "./auth/authenticate";
import type { Clock } from "./clock";
import type { Logger } from "./log";
import type { RateLimiter, RateLimitName } from "./rate-limits";
import { RateLimitExceeded } from "./rate-limits";
import type { InboxBus } from "./relay/bus";
import type { QueueWriter } from "./storage/queue";

/** Long-lived parts of the server, shared by every request. */
export interface MessengerServices {
  db: MessengerDatabase;
  sql: postgres.Sql;
  clock: Clock;
  bus: InboxBus;
  writer: QueueWriter;
  limiter: RateLimiter;
  authenticator: Authenticator;
  logger: Logger;
  shardCount: number;
}

export interface ContextInnerOptions {
  services: MessengerServices;
  auth?: AuthResult;
  /** The WebSocket carrying this call, when there is one (for backpressure). */
  connection?: WebSocket | null;
  remoteAddress?: string;
}

export function createContextInner(opts: ContextInnerOptions) {
  return {
    ...opts.services,
    services: opts.services,
    auth: opts.auth ?? ({ ok: false, reason: "missing" } as AuthResult),
    connection: opts.connection ?? null,
    remoteAddress: opts.remoteAddress ?? "local",
  };
}

export type Context = ReturnType<typeof createContextInner>;

export async function createContext(
  services: MessengerServices,
  opts: CreateHTTPContextOptions | CreateWSSContextFnOptions,
): Promise<Context> {
  const isWebSocket = "res" in opts && typeof (opts.res as WebSocket).send === "function" && !("setHeader" in opts.res);
  let credential: string | undefined;
  if (isWebSocket) {
    const token = opts.info.connectionParams?.token;
    credential = typeof token === "string" ? token : undefined;
  } else {
    const header = opts.req.headers.authorization;
    credential = header?.startsWith("Bearer ") ? header.slice("Bearer ".length).trim() : undefined;
  }
  const auth = await services.authenticator.authenticate(credential);
  return createContextInner({
    services,
    auth,
    connection: isWebSocket ? (opts.res as WebSocket) : null,
    remoteAddress: opts.req.socket.remoteAddress ?? "unknown",
  });
}

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const isInputError = error.code === "BAD_REQUEST" && cause instanceof ZodError;
    return {
      ...shape,
      // A readable sentence instead of a JSON dump of zod issues.
      message: isInputError ? `invalid input: ${describeIssues(cause)}` : shape.message,
      data: {
        ...shape.data,
        stack: undefined,
        issues: isInputError ? cause.issues.map((i) => ({ path: i.path.map(String), message: i.message })) : undefined,
        retryAfterMs: cause instanceof RateLimitExceeded ? cause.retryAfterMs : undefined,
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
  return next({ ctx: { ...ctx, device: ctx.auth.device } });
});

/** Consumes one token of a catalogue limit keyed by `key`, or refuses the call. */
export function limit(ctx: Context, name: RateLimitName, key: string, cost = 1): void {
  ctx.limiter.consume(name, key, cost);
}
