/**
 * Which databases a seeding run writes to. The messenger's: an explicit URL, else
 * MESSENGER_DATABASE_URL, else the running `pnpm dev` stack's (.data/stack.json).
 * The Facebook side's likewise, but optional.
 */
import { findRunningStack } from "@handshake/stack";

/** No database was named and no dev stack is running. */
export class NoDatabaseError extends Error {
  constructor() {
    super(
      "no messenger database: start the stack with `pnpm dev` (in another terminal), " +
        "or pass --database-url postgres://… (or set MESSENGER_DATABASE_URL)",
    );
  }
}

export interface DatabaseChoice {
  url: string;
  /** Where the URL came from, for the report. */
  source: "--database-url" | "MESSENGER_DATABASE_URL" | "pnpm dev" | "--shard-map";
}

/** Resolves the messenger database URL; throws {@link NoDatabaseError} when there is none. */
export async function resolveMessengerDatabase(options: {
  explicit?: string | undefined;
  fromEnv?: string | undefined;
  /** How to find the dev stack (tests inject one). */
  findStack?: () => Promise<{ services: Record<string, { databaseUrl?: string }> } | null>;
}): Promise<DatabaseChoice> {
  if (options.explicit) return { url: options.explicit, source: "--database-url" };
  if (options.fromEnv) return { url: options.fromEnv, source: "MESSENGER_DATABASE_URL" };
  const stack = await (options.findStack ?? findRunningStack)();
  const url = stack?.services.messenger?.databaseUrl;
  if (url) return { url, source: "pnpm dev" };
  throw new NoDatabaseError();
}

/** Where the Facebook side's database came from, or why there is none. */
export type FacebookDatabaseChoice =
  | { url: string; source: "--facebook-database-url" | "FACEBOOK_DATABASE_URL" | "pnpm dev" }
  | { url: null; reason: string };

/**
 * Resolves the Facebook side's database: an explicit URL, else
 * FACEBOOK_DATABASE_URL, else the running `pnpm dev` stack's — only when the
 * messenger database is that stack's too, so a run never mixes a messenger
 * database named by hand with the dev stack's Facebook side. None is not an error:
 * the run seeds the messenger only and says why.
 */
export async function resolveFacebookDatabase(options: {
  explicit?: string | undefined;
  fromEnv?: string | undefined;
  /** --no-facebook */
  disabled?: boolean;
  /** The messenger database the run writes to. */
  messengerUrl: string;
  findStack?: () => Promise<{ services: Record<string, { databaseUrl?: string }> } | null>;
}): Promise<FacebookDatabaseChoice> {
  if (options.disabled) return { url: null, reason: "--no-facebook" };
  if (options.explicit) return { url: options.explicit, source: "--facebook-database-url" };
  if (options.fromEnv) return { url: options.fromEnv, source: "FACEBOOK_DATABASE_URL" };
  const stack = await (options.findStack ?? findRunningStack)();
  const url = stack?.services.facebook?.databaseUrl;
  if (url && stack?.services.messenger?.databaseUrl === options.messengerUrl) return { url, source: "pnpm dev" };
  return {
    url: null,
    reason: url
      ? "the messenger database is not the running `pnpm dev` stack's, so its Facebook database is left alone; " +
        "pass --facebook-database-url (or set FACEBOOK_DATABASE_URL)"
      : "no Facebook database: pass --facebook-database-url (or set FACEBOOK_DATABASE_URL), or seed the running `pnpm dev` stack",
  };
}

/**
 * The running `pnpm dev` stack's shard map file (`--shard-databases N`), when the
 * messenger database a run writes to is that stack's; null otherwise.
 */
export async function runningStackShardMap(
  messengerUrl: string,
  findStack: () => Promise<{ shards?: { map: string }; services: Record<string, { databaseUrl?: string }> } | null> = findRunningStack,
): Promise<string | null> {
  const stack = await findStack();
  return stack?.shards && stack.services.messenger?.databaseUrl === messengerUrl ? stack.shards.map : null;
}
