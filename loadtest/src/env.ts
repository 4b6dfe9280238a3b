/** The only place the loadtest CLI reads process.env. */
import { z } from "zod";

const envSchema = z.object({
  /** Path of the k6 binary when it is not on PATH. */
  K6: z.string().min(1).optional(),
  /** Where `pnpm loadtest` was started (pnpm sets it), for resolving relative paths. */
  INIT_CWD: z.string().optional(),
});

export const env = envSchema.parse(process.env);
