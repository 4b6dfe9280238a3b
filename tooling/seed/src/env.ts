/** The environment the seed CLI reads, validated once. The only place that reads process.env. */
import { z } from "zod";

export const seedEnv = z
  .object({
    /** The messenger's database, when not given with --database-url. */
    MESSENGER_DATABASE_URL: z.url().optional(),
    /** The Facebook side's database, when not given with --facebook-database-url. */
    FACEBOOK_DATABASE_URL: z.url().optional(),
    /** Where `pnpm` was run from: relative --fixtures paths resolve against it. */
    INIT_CWD: z.string().optional(),
  })
  .parse(process.env);
