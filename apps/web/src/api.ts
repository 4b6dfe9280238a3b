/**
 * Typed tRPC clients for both services, through the dev server's proxies, and the
 * admin token: taken once from the URL fragment (`#token=…`, what `pnpm dev`
 * prints), kept in sessionStorage, sent as `x-admin-token`.
 */
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import type { AppRouter as FacebookRouter } from "@handshake/facebook";
import type { AppRouter as MessengerRouter } from "@handshake/messenger";

const TOKEN_KEY = "handshake.adminToken";

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

export const messenger = createTRPCClient<MessengerRouter>({ links: [httpLink({ url: "/api/messenger/trpc", headers })] });
export const facebook = createTRPCClient<FacebookRouter>({ links: [httpLink({ url: "/api/facebook/trpc", headers })] });

/** True when a call failed because the admin token is missing or wrong. */
export function isAuthError(error: unknown): boolean {
  return error instanceof TRPCClientError && (error.data as { code?: string } | undefined)?.code === "UNAUTHORIZED";
}

/** A short readable message for a failed call. */
export function describeError(error: unknown): string {
  if (error instanceof TRPCClientError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
