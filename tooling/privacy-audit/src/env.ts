/** The environment the privacy audit reads, validated once. The only place that reads process.env. */
import { z } from "zod";

export const auditEnv = z
  .object({
    /** The messenger's database, when not given with --messenger-database-url. */
    MESSENGER_DATABASE_URL: z.url().optional(),
    /** The Facebook side's database, when not given with --facebook-database-url. */
    FACEBOOK_DATABASE_URL: z.url().optional(),
  })
  .parse(process.env);
