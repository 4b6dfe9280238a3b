/**
 * tRPC v11 over HTTP, spoken directly (no transformer: plain JSON).
 * Query:    GET  /trpc/<path>?input=<url-encoded JSON>
 * Mutation: POST /trpc/<path> with the JSON input as the body
 * Answers:  { "result": { "data": … } }
 *       or  { "error": { "message", "code": <JSON-RPC number>, "data": { "code", "httpStatus", "reason"?, "retryAfterMs"? } } }
 */
import http from "k6/http";
import { config } from "./config.ts";

export interface TrpcError {
  /** tRPC code name, e.g. "FORBIDDEN"; "NETWORK" when no HTTP answer came back. */
  code: string;
  httpStatus: number;
  message: string;
  /** Consent refusal code (data.reason), e.g. "terms-not-accepted". */
  reason?: string;
  retryAfterMs?: number;
}

/** `body` is the raw answer (null when none came back), for checks on what a response must never contain. */
export type TrpcResult<T> =
  | { ok: true; data: T; durationMs: number; body: string | null }
  | { ok: false; error: TrpcError; durationMs: number; body: string | null };

export interface CallOptions {
  /** tRPC base URL; the messenger's (config.trpcUrl) unless given, e.g. config.facebookTrpcUrl. */
  baseUrl?: string;
  credential?: string;
  adminToken?: string;
  /** HTTP statuses besides 200 that this call expects (k6 then does not count them in http_req_failed). */
  expect?: number[];
  tags?: Record<string, string>;
}

interface Envelope {
  result?: { data?: unknown };
  error?: { message?: string; data?: { code?: string; httpStatus?: number; reason?: string; retryAfterMs?: number } };
}

function headers(options: CallOptions): Record<string, string> {
  const out: Record<string, string> = { "content-type": "application/json" };
  if (options.credential) out.authorization = `Bearer ${options.credential}`;
  if (options.adminToken) out["x-admin-token"] = options.adminToken;
  return out;
}

export function parseTrpcBody<T>(status: number, body: string | null, durationMs: number): TrpcResult<T> {
  if (status === 0 || body === null) {
    return { ok: false, durationMs, body, error: { code: "NETWORK", httpStatus: status, message: "no answer from the server" } };
  }
  let parsed: Envelope;
  try {
    parsed = JSON.parse(body) as Envelope;
  } catch {
    return { ok: false, durationMs, body, error: { code: "BAD_RESPONSE", httpStatus: status, message: body.slice(0, 200) } };
  }
  if (parsed.error) {
    const data = parsed.error.data ?? {};
    return {
      ok: false,
      durationMs,
      body,
      error: {
        code: data.code ?? "UNKNOWN",
        httpStatus: data.httpStatus ?? status,
        message: parsed.error.message ?? "",
        ...(data.reason ? { reason: data.reason } : {}),
        ...(data.retryAfterMs !== undefined ? { retryAfterMs: data.retryAfterMs } : {}),
      },
    };
  }
  return { ok: true, durationMs, body, data: parsed.result?.data as T };
}

async function call<T>(method: "GET" | "POST", path: string, input: unknown, options: CallOptions): Promise<TrpcResult<T>> {
  const base = options.baseUrl ?? config.trpcUrl;
  const url =
    method === "GET"
      ? `${base}/${path}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`
      : `${base}/${path}`;
  const response = await http.asyncRequest(method, url, method === "POST" ? JSON.stringify(input ?? null) : null, {
    headers: headers(options),
    // One time series per procedure, not per URL (query inputs live in the URL).
    tags: { name: path, ...options.tags },
    responseCallback: http.expectedStatuses(200, ...(options.expect ?? [])),
  });
  return parseTrpcBody<T>(response.status, typeof response.body === "string" ? response.body : null, response.timings.duration);
}

export function query<T>(path: string, input: unknown, options: CallOptions = {}): Promise<TrpcResult<T>> {
  return call<T>("GET", path, input, options);
}

export function mutate<T>(path: string, input: unknown, options: CallOptions = {}): Promise<TrpcResult<T>> {
  return call<T>("POST", path, input, options);
}
