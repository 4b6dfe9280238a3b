/** The dashboard server's environment (Node side), validated once. */
import type { InlineConfig } from "vite";
import { z } from "zod";
import { dashboardConfig } from "./config";

export const webEnv = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(5173),
    HOST: z.string().default("127.0.0.1"),
    /** Where the messenger and the Facebook side listen (the dev proxy's targets). */
    MESSENGER_PORT: z.coerce.number().int().min(1).max(65535).default(4100),
    FACEBOOK_PORT: z.coerce.number().int().min(1).max(65535).default(4200),
    /** The simulator's control endpoint (speed, counts). */
    SIMULATOR_PORT: z.coerce.number().int().min(1).max(65535).default(4300),
    /** Load reports written by `pnpm loadtest run` (default: loadtest/reports in the repo). */
    HANDSHAKE_REPORTS_DIR: z.string().optional(),
  })
  .parse(process.env);

/** The dashboard's Vite configuration for this environment (`pnpm dev` and `vite` alike). */
export function dashboardConfigFromEnv(): InlineConfig {
  return dashboardConfig({
    port: webEnv.PORT,
    host: webEnv.HOST,
    messengerPort: webEnv.MESSENGER_PORT,
    facebookPort: webEnv.FACEBOOK_PORT,
    simulatorPort: webEnv.SIMULATOR_PORT,
    ...(webEnv.HANDSHAKE_REPORTS_DIR ? { reportsDir: webEnv.HANDSHAKE_REPORTS_DIR } : {}),
  });
}
