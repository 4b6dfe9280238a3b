/** The only place the Facebook-side service reads process.env; validated once. */
import { z } from "zod";

const envSchema = z.object({
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(4200),
  /** This service's own database. Wins over DATABASE_URL. */
  FACEBOOK_DATABASE_URL: z.url().optional(),
  /** A PostgreSQL server; this service uses database `handshake_facebook` on it. */
  DATABASE_URL: z.url().optional(),
  HANDSHAKE_DATA_DIR: z.string().default(".data"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Shared secret with the messenger: required on ingest, sent with spam signals. */
  SERVICE_TOKEN: z.string().min(16).optional(),
  ADMIN_TOKEN: z.string().min(16).optional(),
  /** When set, `/metrics` needs `Authorization: Bearer <METRICS_TOKEN>`; unset, it is open (bind to 127.0.0.1). */
  METRICS_TOKEN: z.string().min(16).optional(),
  /** Traces: none | console | otlp (default: otlp when OTEL_EXPORTER_OTLP_ENDPOINT is set, else none). */
  OTEL_TRACES_EXPORTER: z.enum(["none", "console", "otlp"]).optional(),
  /** OTLP/HTTP collector base URL, e.g. http://127.0.0.1:4318 (`/v1/traces` is appended). */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** The messenger's tRPC URL: simulated time and spam signals. */
  MESSENGER_URL: z.url().optional(),
  /** Messages in one simulated day above which an account is throttled (spam signal). */
  SPAM_THROTTLE_PER_DAY: z.coerce.number().int().min(1).default(1_000),
  /** ... and above which it is suspended. */
  SPAM_SUSPEND_PER_DAY: z.coerce.number().int().min(1).default(10_000),
});

export type Env = z.infer<typeof envSchema>;

export function readEnv(source: Record<string, string | undefined> = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) throw new Error(`invalid facebook environment:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
