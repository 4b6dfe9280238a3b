/** The only place the messenger reads process.env; validated once at start-up. */
import { regimeNameSchema } from "@handshake/consent";
import { z } from "zod";

const envSchema = z.object({
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(4100),
  /** This service's database. Wins over DATABASE_URL. */
  MESSENGER_DATABASE_URL: z.url().optional(),
  /** A PostgreSQL server; the messenger uses database `handshake_messenger` on it. */
  DATABASE_URL: z.url().optional(),
  /** Where embedded PostgreSQL keeps its data when no URL is given. */
  HANDSHAKE_DATA_DIR: z.string().default(".data"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Path of a shard map (JSON, shards/shard-map.ts): shard ranges on several PostgreSQL servers. Unset: one database. */
  SHARD_MAP: z.string().min(1).optional(),
  /** Logical shards in the population layout (must match the population spec). */
  SHARD_COUNT: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** Set to "off" only for load benchmarks that measure the relay itself. */
  RATE_LIMITS: z.enum(["on", "off"]).default("on"),
  /** When set, `/metrics` needs `Authorization: Bearer <METRICS_TOKEN>`; unset, it is open (bind to 127.0.0.1). */
  METRICS_TOKEN: z.string().min(16, { message: "use at least 16 characters" }).optional(),
  /** `cluster.ts` only: the primary serves all workers' metrics on this port (127.0.0.1 unless HOST says otherwise). */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Traces: none | console | otlp (default: otlp when OTEL_EXPORTER_OTLP_ENDPOINT is set, else none). */
  OTEL_TRACES_EXPORTER: z.enum(["none", "console", "otlp"]).optional(),
  /** OTLP/HTTP collector base URL, e.g. http://127.0.0.1:4318 (`/v1/traces` is appended). */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** Enables admin procedures (simulation clock); unset means they are refused. */
  ADMIN_TOKEN: z.string().min(16, { message: "use at least 16 characters" }).optional(),
  /** Where simulated time starts on a fresh database (it then persists). */
  SIM_CLOCK_START: z.iso.datetime({ offset: true }).default("2016-08-20T08:00:00Z"),
  /** Consent regime: optout-2016, optin, eu-pause-2016, de-ban-2016, none, or historical-2016 (composed by country). */
  CONSENT_REGIME: regimeNameSchema.default("historical-2016"),
  /** The Facebook-side service's tRPC URL; share events are shipped there. */
  FACEBOOK_URL: z.url().optional(),
  /** Shared secret between messenger and Facebook side (ingest, spam signals). */
  SERVICE_TOKEN: z.string().min(16, { message: "use at least 16 characters" }).optional(),
  /**
   * How verification codes reach phones: "simulated" (the simulated phone network,
   * readable through phoneSimulator.readCode: dev and test only) or "none".
   * Default: simulated, except with NODE_ENV=production, where it is refused.
   */
  PHONE_CARRIER: z.enum(["simulated", "none"]).optional(),
  NODE_ENV: z.string().optional(),
  /** Several nodes: the NATS server(s) between them, e.g. nats://10.0.0.5:4222 (comma-separated). Unset: one node, in-process bus. */
  NATS_URL: z.string().regex(/^nats:\/\/[^\s,]+(,nats:\/\/[^\s,]+)*$/, { message: "must be nats://host:port (comma-separated for several)" }).optional(),
  /** This node's id among the nodes on one NATS (default: hostname-pid). */
  NODE_ID: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { message: "letters, digits, _ and - only (at most 64)" }).optional(),
  /** `cluster.ts` only: how many messenger nodes (workers) share the port. */
  MESSENGER_NODES: z.coerce.number().int().min(1).max(64).default(2),
  /** How often (ms) a node looks for envelopes whose NATS wake-up never came (the database fallback). */
  MISSED_DELIVERY_SWEEP_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  ACCEPTANCE_DAYS: z.coerce.number().min(0).max(365).default(30),
  OPT_OUT_WINDOW_DAYS: z.coerce.number().min(0).max(365).default(30),
});

/**
 * The variables a shard map's URLs name as `${VAR}` (its secrets). Their names come
 * from the map file, so no schema can list them; shards/shard-map.ts checks each is set.
 */
export function shardMapVariables(source: Record<string, string | undefined> = process.env): Record<string, string | undefined> {
  return source;
}

export type Env = z.infer<typeof envSchema> & { PHONE_CARRIER: "simulated" | "none" };

export function readEnv(source: Record<string, string | undefined> = process.env): Env {
  const parsed = envSchema
    .refine((env) => !(env.NODE_ENV === "production" && env.PHONE_CARRIER === "simulated"), {
      message: "PHONE_CARRIER=simulated lets anyone read verification codes: it is refused with NODE_ENV=production",
      path: ["PHONE_CARRIER"],
    })
    .transform((env) => ({ ...env, PHONE_CARRIER: env.PHONE_CARRIER ?? (env.NODE_ENV === "production" ? "none" : "simulated") }))
    .safeParse(source);
  if (!parsed.success) {
    throw new Error(`invalid messenger environment:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
