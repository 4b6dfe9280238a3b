/** The Facebook side's API, typed for clients as `AppRouter`. */
import { adsRouter } from "./router/ads";
import { advertisersRouter } from "./router/advertisers";
import { audiencesRouter } from "./router/audiences";
import { dashboardRouter } from "./router/dashboard";
import { ingestRouter } from "./router/ingest";
import { accountsRouter, profilesRouter } from "./router/profiles";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  ingest: ingestRouter,
  profiles: profilesRouter,
  accounts: accountsRouter,
  advertisers: advertisersRouter,
  audiences: audiencesRouter,
  ads: adsRouter,
  dashboard: dashboardRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
