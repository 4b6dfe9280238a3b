/** The messenger's API: assembled here, typed for clients as `AppRouter`. */
import { accountRouter } from "./router/account";
import { inboxRouter } from "./router/inbox";
import { keysRouter } from "./router/keys";
import { messageRouter } from "./router/message";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  account: accountRouter,
  keys: keysRouter,
  message: messageRouter,
  inbox: inboxRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
