#!/usr/bin/env node
/**
 * `pnpm population <command>`: describe or export a sample of the population's
 * shards. `seed` writes to the databases, so it lives in @handshake/seed (this
 * package stays pure); the root `pnpm population seed` dispatches there.
 */
import { UsageError } from "./args";
import { DESCRIBE_USAGE, describeCommand } from "./describe";
import { EXPORT_USAGE, exportCommand } from "./export";

interface Command {
  usage: string;
  run(argv: string[]): void | Promise<void>;
}

const SEED_USAGE = `seed --shards 0-3 …
  Materialises the sample into the databases and writes the k6 fixtures: run
  \`pnpm population seed\` from the repo root; seeding lives in @handshake/seed.`;

const COMMANDS: Record<string, Command> = {
  describe: { usage: DESCRIBE_USAGE, run: describeCommand },
  export: { usage: EXPORT_USAGE, run: exportCommand },
  seed: {
    usage: SEED_USAGE,
    run() {
      throw new UsageError(
        "seed writes to databases, so it is not part of this pure package: run `pnpm population seed` from the repo root (it lives in @handshake/seed)",
      );
    },
  },
};

function usage(): string {
  return `usage: pnpm population <command> [options]\n\n${Object.values(COMMANDS).map((c) => c.usage).join("\n\n")}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`population ${name}: ${err.message}\n\n${command.usage}\n`);
      return 2;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
