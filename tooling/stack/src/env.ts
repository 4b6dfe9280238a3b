/** The dev stack's environment, validated once. */
import { z } from "zod";

export const stackEnv = z
  .object({
    DATABASE_URL: z.url().optional(),
    HANDSHAKE_POSTGRES_PORT: z.coerce.number().int().min(0).max(65535).default(54329),
    LOG_LEVEL: z.string().default("info"),
    /** Shards of the population (the messenger's SHARD_COUNT), split over `--shard-databases`. */
    SHARD_COUNT: z.coerce.number().int().positive().default(10_000),
  })
  .parse(process.env);
