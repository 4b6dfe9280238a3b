/**
 * Builds the Facebook-side service: its own database (migrated), services, and
 * an HTTP server for tRPC. `main.ts` wires it to the environment; tests build
 * one on port 0.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { createFacebookDb } from "@handshake/db/client";
import { AudienceBudget, audienceBudgetCatalogue, type AudienceBudgetCatalogue } from "./audiences/budget";
import { migrateDatabase } from "@handshake/db/migrate";
import { systemClock, type Clock } from "./clock";
import { createLogger, type Logger } from "./log";
import { observed } from "./observability/http";
import { FacebookMetrics } from "./observability/metrics";
import { appRouter } from "./root";
import { SpamNotifier } from "./spam/notifier";
import { RefusalCounter } from "./storage/api-refusals";
import { ESTIMATE_KEY_SECRET, serviceSecret } from "./storage/service-secrets";
import { createContext, MAX_BATCH_CALLS, type FacebookServices } from "./trpc";

/** Largest request: 10,000 hex hashes (650 KB) in one audience upload, with room to spare. */
export const MAX_REQUEST_BYTES = 2 * 1024 * 1024;

export interface FacebookServerOptions {
  databaseUrl: string;
  clock?: Clock;
  logger?: Logger;
  serviceToken?: string | null;
  adminToken?: string | null;
  /** Required (Bearer) on `/metrics` when set; unset, `/metrics` is open (see README, "Metrics"). */
  metricsToken?: string | null;
  /** The messenger's tRPC URL, for spam signals. */
  messengerUrl?: string | null;
  spamThrottlePerDay?: number;
  spamSuspendPerDay?: number;
  audienceMinimum?: number;
  /**
   * Keys the noise of audience size estimates. Default: a key generated once per
   * database and kept (`service_secrets`), so restarts and nodes answer alike.
   */
  estimateKey?: Buffer;
  /** Overrides of the audience budget catalogue (tests raise it). */
  audienceBudget?: Partial<AudienceBudgetCatalogue>;
  poolSize?: number;
}

export interface FacebookServer {
  services: FacebookServices;
  http: Server;
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
}

export async function createFacebookServer(options: FacebookServerOptions): Promise<FacebookServer> {
  const logger = options.logger ?? createLogger();
  await migrateDatabase(options.databaseUrl, "facebook");
  const { db, sql, close: closeDb } = createFacebookDb(options.databaseUrl, { max: options.poolSize ?? 10, applicationName: "facebook" });
  const notifier =
    options.messengerUrl && options.serviceToken ? new SpamNotifier(sql, options.messengerUrl, options.serviceToken, logger) : null;
  const services: FacebookServices = {
    db,
    sql,
    clock: options.clock ?? systemClock,
    logger,
    serviceToken: options.serviceToken ?? null,
    adminToken: options.adminToken ?? null,
    spam: {
      throttlePerDay: options.spamThrottlePerDay ?? 1_000,
      suspendPerDay: options.spamSuspendPerDay ?? 10_000,
      notifier,
    },
    audienceMinimum: options.audienceMinimum ?? 100,
    estimateKey: options.estimateKey ?? (await serviceSecret(sql, ESTIMATE_KEY_SECRET)),
    audienceBudget: new AudienceBudget(sql, { ...audienceBudgetCatalogue, ...options.audienceBudget }),
    refusals: new RefusalCounter(sql, logger),
    metrics: new FacebookMetrics(),
  };
  notifier?.kick(); // signals left undelivered by a previous run
  const budgetSweep = setInterval(() => {
    services.audienceBudget.sweep().catch((err: unknown) => logger.warn({ err }, "budget sweep failed"));
  }, 10 * 60_000);
  budgetSweep.unref();

  const handler = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    maxBodySize: MAX_REQUEST_BYTES,
    maxBatchSize: MAX_BATCH_CALLS,
    createContext: (opts) => createContext(services, opts),
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") logger.error({ path, err: error }, "procedure failed");
    },
  });
  const http = createServer(observed(services.metrics, options.metricsToken ?? null, (req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true }));
      return;
    }
    if (!req.url?.startsWith("/trpc/")) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found: the API lives under /trpc/\n");
      return;
    }
    handler(req, res);
  }));

  let closing: Promise<void> | null = null;
  return {
    services,
    http,
    listen: (port = 0, host = "127.0.0.1") =>
      new Promise((resolve, reject) => {
        http.once("error", reject);
        http.listen(port, host, () => {
          const address = http.address() as AddressInfo;
          resolve({ url: `http://${host}:${address.port}/trpc`, port: address.port });
        });
      }),
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        });
        clearInterval(budgetSweep);
        await notifier?.stop();
        await services.refusals.close();
        await closeDb();
      })()),
  };
}
