/** The Facebook side's API, typed for clients as `AppRouter`. */
import { ingestRouter } from "./router/ingest";
import { accountsRouter, profilesRouter } from "./router/profiles";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  ingest: ingestRouter,
  profiles: profilesRouter,
  accounts: accountsRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
