/**
 * `pnpm population seed …`: argument parsing and the run. main.ts only wires it to
 * the process.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { type PopulationSpec, type SpecOverrides, createSpec, parseShardList } from "@handshake/population";
import { repoRoot } from "@handshake/stack";
import { type DatabaseChoice, resolveMessengerDatabase } from "./database";
import { progressBar } from "./progress";
import { resultTable } from "./report";
import { seedSample } from "./seed";

/** A bad command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

export const USAGE = `usage: pnpm population seed --shards 0-3 [options]

Materialises a sample of the population's shards into the messenger's database
(accounts, devices with credentials, key material) with COPY, idempotently, and
writes the fixture files the k6 scripts read (loadtest/docs/fixtures.md).

  --shards LIST         shards to seed, e.g. 0-3 (or 0..3) or 0,5,10-11 (required)
  --shard-count S       shards in the population (default 10000)
  --seed n              population seed (default 20160825)
  --size N              population size (default 1e9)
  --database-url URL    messenger database (default: MESSENGER_DATABASE_URL, else
                        the running \`pnpm dev\` stack); alias --messenger-database-url
  --fixtures DIR        where meta.json and users.json go
                        (default <repo>/loadtest/fixtures/sample); alias --out
  --no-fixtures         seed the database only
  --prekeys k           one-time prekeys per device (default 5, at most 100)
  --outside n           stub accounts standing for out-of-sample contacts (default 1000)
  --batch-size n        users per COPY batch (default 10000)
  --concurrency n       batches in flight / connections (default 2)
  --progress            progress bar even when stderr is not a terminal
`;

const OPTIONS = {
  shards: { type: "string" },
  "shard-count": { type: "string" },
  seed: { type: "string" },
  size: { type: "string" },
  "database-url": { type: "string" },
  "messenger-database-url": { type: "string" },
  fixtures: { type: "string" },
  out: { type: "string" },
  "no-fixtures": { type: "boolean" },
  prekeys: { type: "string" },
  outside: { type: "string" },
  "batch-size": { type: "string" },
  concurrency: { type: "string" },
  progress: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** An integer option ("1e9" and "1_000_000" accepted) within [min, max], or the fallback. */
function int(name: string, raw: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return fallback;
  const n = Number(raw.replaceAll("_", ""));
  if (raw.trim() === "" || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  }
  return n;
}

/** What a command line asks for. */
export interface SeedCommand {
  help: boolean;
  spec: PopulationSpec;
  shards: number[];
  databaseUrl: string | undefined;
  /** Absolute, or null with --no-fixtures. */
  fixturesDir: string | null;
  prekeys: number;
  outside: number;
  batchSize: number;
  concurrency: number;
  progress: boolean;
}

/** Parses and checks argv; throws {@link UsageError} naming the problem. */
export function parseSeedArgs(argv: string[], cwd: string): SeedCommand {
  let values;
  try {
    values = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const overrides: SpecOverrides = {};
  if (values.seed !== undefined) overrides.seed = int("seed", values.seed, 0, 0);
  if (values.size !== undefined) overrides.size = int("size", values.size, 0, 1);
  if (values["shard-count"] !== undefined) overrides.shardCount = int("shard-count", values["shard-count"], 0, 1);
  let spec: PopulationSpec;
  try {
    spec = createSpec(overrides);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    return { help: true, spec, shards: [], databaseUrl: undefined, fixturesDir: null, prekeys: 5, outside: 0, batchSize: 1, concurrency: 1, progress: false };
  }
  if (values.shards === undefined) throw new UsageError("--shards is required, e.g. --shards 0-3");
  let shards: number[];
  try {
    shards = parseShardList(values.shards.replaceAll("..", "-"), spec.shardCount);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  // aliases: the load-test runner says --out and --messenger-database-url (the latter
  // stays unambiguous once the facebook database is seeded too)
  const twice = (a: string, b: string) => new UsageError(`--${a} and --${b} are the same option: give one`);
  if (values.fixtures !== undefined && values.out !== undefined) throw twice("fixtures", "out");
  if (values["database-url"] !== undefined && values["messenger-database-url"] !== undefined) {
    throw twice("database-url", "messenger-database-url");
  }
  const fixtures = values.fixtures ?? values.out;
  if (fixtures !== undefined && values["no-fixtures"]) throw new UsageError("--fixtures and --no-fixtures exclude each other");
  const databaseUrl = values["database-url"] ?? values["messenger-database-url"];
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new UsageError(`--database-url must be a postgres:// URL, got "${databaseUrl}"`);
  }
  return {
    help: false,
    spec,
    shards,
    databaseUrl,
    fixturesDir: values["no-fixtures"]
      ? null
      : fixtures !== undefined
        ? path.resolve(cwd, fixtures)
        : path.join(repoRoot, "loadtest", "fixtures", "sample"),
    prekeys: int("prekeys", values.prekeys, 5, 0, 100),
    outside: int("outside", values.outside, 1000, 0, 1_000_000),
    batchSize: int("batch-size", values["batch-size"], 10_000, 1, 1_000_000),
    concurrency: int("concurrency", values.concurrency, 2, 1, 32),
    progress: values.progress === true,
  };
}

/** Runs a parsed command: resolve the database, seed, print the table on stdout. */
export async function runSeed(command: SeedCommand, env: { databaseUrl?: string | undefined; stderrIsTTY: boolean }): Promise<void> {
  const database: DatabaseChoice = await resolveMessengerDatabase({ explicit: command.databaseUrl, fromEnv: env.databaseUrl });
  const target = new URL(database.url);
  process.stderr.write(`seeding into ${target.host}${target.pathname} (from ${database.source})\n`);
  const bar = progressBar(command.progress || env.stderrIsTTY);
  try {
    const result = await seedSample({
      spec: command.spec,
      shards: command.shards,
      databaseUrl: database.url,
      fixturesDir: command.fixturesDir,
      prekeys: command.prekeys,
      outside: command.outside,
      batchSize: command.batchSize,
      concurrency: command.concurrency,
      onProgress: bar.onProgress,
    });
    bar.stop();
    process.stdout.write(resultTable(result));
    if (command.fixturesDir) process.stdout.write(`fixtures: ${command.fixturesDir}/{meta,users}.json\n`);
  } finally {
    bar.stop();
  }
}
