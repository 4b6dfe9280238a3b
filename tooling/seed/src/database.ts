/**
 * Which messenger database a seeding run writes to: an explicit URL, else
 * MESSENGER_DATABASE_URL, else the running `pnpm dev` stack's (.data/stack.json).
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
  source: "--database-url" | "MESSENGER_DATABASE_URL" | "pnpm dev";
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
