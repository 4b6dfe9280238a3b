/** Raw typed tRPC clients for the messenger, over HTTP and over WebSocket. */
import { createTRPCClient, createWSClient, httpLink, splitLink, wsLink, type TRPCClient } from "@trpc/client";
import WebSocket from "ws";
import type { AppRouter } from "@handshake/messenger";

export type MessengerClient = TRPCClient<AppRouter>;

export interface MessengerClientOptions {
  /** e.g. http://127.0.0.1:4100/trpc */
  url: string;
  credential?: string;
  /**
   * Open a WebSocket and send every call over it (subscriptions need it).
   * Without it, queries and mutations go over HTTP.
   */
  webSocket?: boolean;
  /** Called when the socket closes (e.g. to observe reconnects in tests). */
  onClose?: (cause?: { code?: number }) => void;
  onOpen?: () => void;
}

export function createMessengerClient(options: MessengerClientOptions): { client: MessengerClient; close(): Promise<void> } {
  const headers = () => (options.credential ? { authorization: `Bearer ${options.credential}` } : {});
  if (!options.webSocket) {
    return { client: createTRPCClient<AppRouter>({ links: [httpLink({ url: options.url, headers })] }), close: async () => {} };
  }
  const wsClient = createWSClient({
    url: options.url.replace(/^http/, "ws"),
    // Node 20 has no global WebSocket; the `ws` package is API-compatible.
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: () => (options.credential ? { token: options.credential } : {}),
    retryDelayMs: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
    ...(options.onClose ? { onClose: options.onClose } : {}),
    ...(options.onOpen ? { onOpen: options.onOpen } : {}),
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: () => true,
        true: wsLink({ client: wsClient }),
        false: httpLink({ url: options.url, headers }),
      }),
    ],
  });
  return { client, close: async () => wsClient.close() };
}
