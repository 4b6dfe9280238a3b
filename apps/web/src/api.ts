/**
 * Typed tRPC clients for both services, through the dev server's proxies, bound to
 * TanStack Query (@trpc/tanstack-react-query), and the admin token: taken once from
 * the URL fragment (`#token=…`, what `pnpm dev` prints), kept in sessionStorage,
 * sent as `x-admin-token` (HTTP) or `connectionParams.adminToken` (WebSocket).
 *
 * The messenger's subscriptions go over one WebSocket (wsLink), everything else
 * over batched HTTP; the Facebook side has no stream and is HTTP only.
 */
import { QueryClient } from "@tanstack/react-query";
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, TRPCClientError, wsLink, type TRPCClient } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import type { AppRouter as FacebookRouter } from "@handshake/facebook";
import type { AppRouter as MessengerRouter } from "@handshake/messenger";

const TOKEN_KEY = "handshake.adminToken";

/** How often figures without a stream are fetched again while shown. */
export const REFRESH_MS = 2_000;

/** Moves `#token=…` from the address bar into sessionStorage (and out of the visible URL). */
export function adoptTokenFromFragment(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]!));
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
}

/** The admin token of this browser tab, if any. */
export function adminToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Stores a token pasted by hand. */
export function setAdminToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

/** Forgets the token (e.g. after the server said it is wrong). */
export function clearAdminToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

const headers = () => {
  const token = adminToken();
  return token ? { "x-admin-token": token } : {};
};

/** The messenger's procedures as TanStack Query options (`useMessenger().dashboard.rollout.queryOptions(…)`). */
export const { TRPCProvider: MessengerProvider, useTRPC: useMessenger } = createTRPCContext<MessengerRouter, { keyPrefix: true }>();
/** The Facebook side's procedures as TanStack Query options. */
export const { TRPCProvider: FacebookProvider, useTRPC: useFacebook } = createTRPCContext<FacebookRouter, { keyPrefix: true }>();

export interface DashboardClients {
  queryClient: QueryClient;
  messenger: TRPCClient<MessengerRouter>;
  facebook: TRPCClient<FacebookRouter>;
}

/** One query cache and a client per service, for the app's providers (and a test's). */
export function createDashboardClients(): DashboardClients {
  const queryClient = new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 1_000,
        // A refused token will not be accepted on the second try.
        retry: (failures, error) => !isAuthError(error) && failures < 2,
      },
    },
  });
  const wsClient = createWSClient({
    url: `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}/api/messenger/trpc`,
    connectionParams: () => ({ adminToken: adminToken() ?? "" }),
    // Connects when the first subscription starts, hangs up a little after the last ends.
    lazy: { enabled: true, closeMs: 5_000 },
  });
  const messenger = createTRPCClient<MessengerRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: wsLink({ client: wsClient }),
        false: httpBatchLink({ url: "/api/messenger/trpc", headers }),
      }),
    ],
  });
  const facebook = createTRPCClient<FacebookRouter>({ links: [httpBatchLink({ url: "/api/facebook/trpc", headers })] });
  return { queryClient, messenger, facebook };
}

/** True when a call failed because the admin token is missing or wrong. */
export function isAuthError(error: unknown): boolean {
  return error instanceof TRPCClientError && (error.data as { code?: string } | undefined)?.code === "UNAUTHORIZED";
}

/** A short readable message for a failed call. */
export function describeError(error: unknown): string {
  if (error instanceof TRPCClientError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
