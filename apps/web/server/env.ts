/** The dashboard server's environment (Node side), validated once. */
import { z } from "zod";

export const webEnv = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(5173),
    HOST: z.string().default("127.0.0.1"),
    /** Where the messenger and the Facebook side listen (the dev proxy's targets). */
    MESSENGER_PORT: z.coerce.number().int().min(1).max(65535).default(4100),
    FACEBOOK_PORT: z.coerce.number().int().min(1).max(65535).default(4200),
    /** Load reports written by `pnpm loadtest run` (default: loadtest/reports in the repo). */
    HANDSHAKE_REPORTS_DIR: z.string().optional(),
  })
  .parse(process.env);
