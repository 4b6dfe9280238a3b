/** The only place the loadtest CLI reads process.env. */
import { z } from "zod";

const envSchema = z.object({
  /** Path of the k6 binary when it is not on PATH. */
  K6: z.string().min(1).optional(),
  /** Where `pnpm loadtest` was started (pnpm sets it), for resolving relative paths. */
  INIT_CWD: z.string().optional(),
  /** Sent as Bearer when the run scrapes the services' /metrics (their METRICS_TOKEN, if they set one). */
  METRICS_TOKEN: z.string().min(1).optional(),
  /** Relay bench diagnostics (loadtest/README.md): connect idle devices without opening their inbox stream. */
  HANDSHAKE_BENCH_IDLE_NO_SUBSCRIBE: z.enum(["1"]).optional(),
  /** Relay bench diagnostics: write server 0's heap snapshots before and after connecting into this folder. */
  HANDSHAKE_BENCH_HEAP_SNAPSHOTS: z.string().min(1).optional(),
  /** Relay bench diagnostics: run the servers with tRPC's per-socket keep-alive (the "before" of the shared sweep). */
  HANDSHAKE_BENCH_KEEPALIVE: z.enum(["trpc"]).optional(),
  /** Relay bench diagnostics: run the --realistic servers under node --cpu-prof, writing into this folder. */
  HANDSHAKE_BENCH_CPU_PROFILES: z.string().min(1).optional(),
  /** Relay bench diagnostics: extra node flags for the exchange bench's servers (space-separated, e.g. "--trace-gc"). */
  HANDSHAKE_BENCH_SERVER_FLAGS: z.string().min(1).optional(),
});

export const env = envSchema.parse(process.env);

/** This process's environment plus `extra`, for a child process (k6) that needs both. */
export const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => ({ ...process.env, ...extra });
