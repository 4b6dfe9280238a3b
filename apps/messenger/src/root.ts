/** The messenger's API: assembled here, typed for clients as `AppRouter`. */
import { abuseRouter } from "./router/abuse";
import { accountRouter } from "./router/account";
import { adminRouter, clockRouter } from "./router/admin";
import { businessRouter } from "./router/business";
import { dashboardRouter } from "./router/dashboard";
import { settingsRouter } from "./router/settings";
import { shareRouter } from "./router/share";
import { termsRouter } from "./router/terms";
import { inboxRouter } from "./router/inbox";
import { keysRouter } from "./router/keys";
import { messageRouter } from "./router/message";
import { phoneSimulatorRouter } from "./router/phone-simulator";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  account: accountRouter,
  keys: keysRouter,
  message: messageRouter,
  inbox: inboxRouter,
  terms: termsRouter,
  settings: settingsRouter,
  business: businessRouter,
  clock: clockRouter,
  admin: adminRouter,
  share: shareRouter,
  abuse: abuseRouter,
  dashboard: dashboardRouter,
  phoneSimulator: phoneSimulatorRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
