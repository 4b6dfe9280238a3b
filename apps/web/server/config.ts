/**
 * The dashboard's Vite configuration, as a function so `pnpm dev` (server/main.ts),
 * `vite` (vite.config.ts) and the browser test share it with their own ports.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import type { InlineConfig } from "vite";
import { dashboardServerPlugin } from "./plugin";
import { simulatorProxyPlugin } from "./simulator-proxy";

export const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const defaultReportsDir = path.resolve(webRoot, "../../loadtest/reports");

export interface DashboardOptions {
  port: number;
  host: string;
  messengerPort: number;
  facebookPort: number;
  /** Where the simulator's control endpoint listens (served as `/api/simulator`); none: no simulator panel. */
  simulatorPort?: number;
  /** Folder of load reports (default loadtest/reports). */
  reportsDir?: string;
}

/** Vite config: React, the API proxies (`/api/messenger`, `/api/facebook`, HTTP and WebSocket), health and load reports. */
export function dashboardConfig(options: DashboardOptions): InlineConfig {
  const proxyTo = (prefix: string, port: number) => ({
    target: `http://127.0.0.1:${port}`,
    changeOrigin: true,
    // The messenger's subscriptions (dashboard.live) come over a WebSocket on the same path.
    ws: true,
    rewrite: (p: string) => p.slice(prefix.length),
  });
  return {
    root: webRoot,
    configFile: false,
    appType: "spa",
    logLevel: "warn",
    clearScreen: false,
    plugins: [
      react(),
      dashboardServerPlugin({ reportsDir: options.reportsDir ?? defaultReportsDir }),
      ...(options.simulatorPort ? [simulatorProxyPlugin({ port: options.simulatorPort })] : []),
    ],
    server: {
      port: options.port,
      host: options.host,
      strictPort: true,
      proxy: {
        "/api/messenger": proxyTo("/api/messenger", options.messengerPort),
        "/api/facebook": proxyTo("/api/facebook", options.facebookPort),
      },
    },
    // Pre-bundled at start, so the first page load never triggers a dependency reload.
    optimizeDeps: { include: ["react", "react-dom/client", "react/jsx-dev-runtime", "@trpc/client", "@trpc/tanstack-react-query", "@tanstack/react-query", "@observablehq/plot", "zod", "wouter"] },
  };
}
