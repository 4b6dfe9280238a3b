/** The environment the seed CLI reads, validated once. The only place that reads process.env. */
import { z } from "zod";

export const seedEnv = z
  .object({
    /** The messenger's database, when not given with --database-url. */
    MESSENGER_DATABASE_URL: z.url().optional(),
    /** The Facebook side's database, when not given with --facebook-database-url. */
    FACEBOOK_DATABASE_URL: z.url().optional(),
    /** The messenger's shard map file, when not given with --shard-map (as the messenger reads it). */
    SHARD_MAP: z.string().min(1).optional(),
    /** Where `pnpm` was run from: relative --fixtures paths resolve against it. */
    INIT_CWD: z.string().optional(),
  })
  .parse(process.env);

/**
 * The variables a shard map's URLs name as `${VAR}` (its secrets). Their names come from
 * the map file, so no schema can list them; the map's parser checks each is set.
 */
export const shardMapVariables: Record<string, string | undefined> = process.env;
