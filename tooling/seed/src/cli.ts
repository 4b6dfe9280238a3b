/**
 * `pnpm population seed …`: argument parsing and the run. main.ts only wires it to
 * the process.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { type PopulationSpec, type SpecOverrides, createSpec, parseShardList } from "@handshake/population";
import { repoRoot } from "@handshake/stack";
import { DEFAULT_ADDRESS_BOOKS, type AddressBookOptions } from "./address-books";
import { loadShardMap } from "@handshake/db/messenger-shards";
import { type DatabaseChoice, type FacebookDatabaseChoice, resolveFacebookDatabase, resolveMessengerDatabase, runningStackShardMap } from "./database";
import { progressBar } from "./progress";
import { resultTable } from "./report";
import { seedSample } from "./seed";

/** A bad command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

export const USAGE = `usage: pnpm population seed --shards 0-3 [options]

Materialises a sample of the population's shards into the messenger's database
(accounts, devices with credentials, key material) and the Facebook side's
(profiles, uploaded address books) with COPY, idempotently, and writes the
fixture files the k6 scripts read (loadtest/docs/fixtures.md).

  --shards LIST         shards to seed, e.g. 0-3 (or 0..3) or 0,5,10-11 (required)
  --shard-count S       shards in the population (default 10000)
  --seed n              population seed (default 20160825)
  --size N              population size (default 1e9)
  --database-url URL    messenger database (default: MESSENGER_DATABASE_URL, else
                        the running \`pnpm dev\` stack); alias --messenger-database-url
  --shard-map FILE      the messenger's shard map (default: SHARD_MAP, else the running
                        \`pnpm dev\` stack's when seeding its database): each account goes
                        to its shard's database, home gets its directory row; the
                        messenger database defaults to the map's home
  --facebook-database-url URL
                        Facebook database (default: FACEBOOK_DATABASE_URL, else the
                        running \`pnpm dev\` stack's when the messenger database is
                        that stack's too, else the messenger is seeded alone)
  --no-facebook         seed the messenger only
  --address-book-share p
                        share of WhatsApp users' Facebook profiles that uploaded
                        an address book (default ${DEFAULT_ADDRESS_BOOKS.share})
  --address-book-max n  most entries per address book (default ${DEFAULT_ADDRESS_BOOKS.max})
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
  "facebook-database-url": { type: "string" },
  "shard-map": { type: "string" },
  "no-facebook": { type: "boolean" },
  "address-book-share": { type: "string" },
  "address-book-max": { type: "string" },
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
  facebookDatabaseUrl: string | undefined;
  /** --shard-map, resolved against the caller's directory. */
  shardMapPath: string | undefined;
  /** --no-facebook */
  noFacebook: boolean;
  addressBooks: AddressBookOptions;
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
    return {
      help: true, spec, shards: [], databaseUrl: undefined, facebookDatabaseUrl: undefined, shardMapPath: undefined, noFacebook: false,
      addressBooks: DEFAULT_ADDRESS_BOOKS, fixturesDir: null, prekeys: 5, outside: 0, batchSize: 1, concurrency: 1, progress: false,
    };
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
  const facebookDatabaseUrl = values["facebook-database-url"];
  if (facebookDatabaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(facebookDatabaseUrl)) {
    throw new UsageError(`--facebook-database-url must be a postgres:// URL, got "${facebookDatabaseUrl}"`);
  }
  if (facebookDatabaseUrl !== undefined && values["no-facebook"]) {
    throw new UsageError("--facebook-database-url and --no-facebook exclude each other");
  }
  const rawShare = values["address-book-share"];
  const share = rawShare === undefined ? DEFAULT_ADDRESS_BOOKS.share : Number(rawShare);
  if (rawShare !== undefined && (rawShare.trim() === "" || !(share >= 0 && share <= 1))) {
    throw new UsageError(`--address-book-share must be a number in [0, 1], got "${rawShare}"`);
  }
  return {
    help: false,
    spec,
    shards,
    databaseUrl,
    facebookDatabaseUrl,
    shardMapPath: values["shard-map"] !== undefined ? path.resolve(cwd, values["shard-map"]) : undefined,
    noFacebook: values["no-facebook"] === true,
    addressBooks: { share, max: int("address-book-max", values["address-book-max"], DEFAULT_ADDRESS_BOOKS.max, 0, 5000) },
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

/** A shard map that cannot be read or is invalid: said as it is, without a stack trace. */
export class ShardMapError extends Error {}

async function readShardMap(file: string, variables: Record<string, string | undefined>) {
  try {
    return await loadShardMap(file, variables);
  } catch (error) {
    throw new ShardMapError((error as Error).message);
  }
}

/** host/database of a URL, for the lines saying where a run writes. */
function where(url: string): string {
  const u = new URL(url);
  return `${u.host}${u.pathname}`;
}

/** Runs a parsed command: resolve the databases, seed, print the table on stdout. */
export async function runSeed(
  command: SeedCommand,
  env: {
    databaseUrl?: string | undefined;
    facebookDatabaseUrl?: string | undefined;
    /** SHARD_MAP */
    shardMapPath?: string | undefined;
    /** For `${VAR}`s in a shard map's URLs. */
    variables?: Record<string, string | undefined>;
    stderrIsTTY: boolean;
  },
): Promise<void> {
  const named = command.shardMapPath ?? env.shardMapPath;
  let shardMap = named ? await readShardMap(named, env.variables ?? {}) : null;
  const database: DatabaseChoice =
    shardMap && !command.databaseUrl
      ? { url: shardMap.databases[shardMap.home]!, source: "--shard-map" }
      : await resolveMessengerDatabase({ explicit: command.databaseUrl, fromEnv: env.databaseUrl });
  if (!shardMap) {
    const stackMap = await runningStackShardMap(database.url);
    if (stackMap) shardMap = await readShardMap(stackMap, env.variables ?? {});
  }
  const facebook: FacebookDatabaseChoice = await resolveFacebookDatabase({
    explicit: command.facebookDatabaseUrl,
    fromEnv: env.facebookDatabaseUrl,
    disabled: command.noFacebook,
    messengerUrl: database.url,
  });
  process.stderr.write(`seeding into ${where(database.url)} (from ${database.source})\n`);
  if (shardMap) {
    const others = Object.entries(shardMap.databases).filter(([name]) => name !== shardMap.home);
    process.stderr.write(`shard map: ${shardMap.shardCount} shards over ${others.length + 1} databases (home ${shardMap.home}; ${others.map(([name, url]) => `${name} ${where(url)}`).join(", ")})\n`);
  }
  process.stderr.write(
    facebook.url !== null
      ? `facebook: seeding into ${where(facebook.url)} (from ${facebook.source})\n`
      : `facebook: not seeded, messenger only (${facebook.reason})\n`,
  );
  const bar = progressBar(command.progress || env.stderrIsTTY);
  try {
    const result = await seedSample({
      spec: command.spec,
      shards: command.shards,
      databaseUrl: database.url,
      shardMap,
      facebookDatabaseUrl: facebook.url,
      addressBooks: command.addressBooks,
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
