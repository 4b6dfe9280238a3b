/**
 * The shard map: which PostgreSQL database holds which range of logical shards.
 * One JSON file (path in `SHARD_MAP`), validated with zod at start-up. Without a
 * file there is one database holding every shard, as before.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";

/** Logical shards when no map says otherwise (the messenger's `SHARD_COUNT` default). */
export const DEFAULT_SHARD_COUNT = 10_000;

const databaseName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { message: "letters, digits, _ and - only (at most 64)" });

const fileSchema = z
  .object({
    /** Rises with every change; a node refuses a map older than the one it runs. */
    version: z.number().int().min(1),
    shardCount: z.number().int().min(1).max(1_000_000),
    /** Name → postgres:// URL; `${VAR}` is read from the environment (secrets stay out of the file). */
    databases: z.record(databaseName, z.string().min(1)),
    /** Holds what is not partitioned (clock, regimes, consent and share, limits); default: the first database listed. */
    home: databaseName.optional(),
    /** Inclusive ranges, sorted, covering [0, shardCount) exactly. */
    ranges: z.array(z.object({ from: z.number().int().min(0), to: z.number().int().min(0), database: databaseName })).min(1),
  })
  .strict();

export type ShardMapFile = z.infer<typeof fileSchema>;

export interface ShardMap {
  version: number;
  shardCount: number;
  /** Name → URL with `${VAR}`s substituted. */
  databases: Record<string, string>;
  home: string;
  ranges: { from: number; to: number; database: string }[];
}

/** Parses and checks a map; every problem is listed with its path. */
export function parseShardMap(input: unknown, env: Record<string, string | undefined> = {}): ShardMap {
  const parsed = fileSchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid shard map:\n${z.prettifyError(parsed.error)}`);
  const file = parsed.data;
  const problems: string[] = [];
  const names = Object.keys(file.databases);
  if (names.length === 0) problems.push("databases: list at least one");
  const databases: Record<string, string> = {};
  for (const [name, template] of Object.entries(file.databases)) {
    const url = template.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, variable: string) => {
      const value = env[variable];
      if (value === undefined) problems.push(`databases.${name}: environment variable ${variable} is not set`);
      return value ?? "";
    });
    if (!/^postgres(ql)?:\/\//.test(url)) problems.push(`databases.${name}: must be a postgres:// URL`);
    databases[name] = url;
  }
  const home = file.home ?? names[0]!;
  if (file.home && !(file.home in file.databases)) problems.push(`home: "${file.home}" is not in databases`);
  let next = 0;
  file.ranges.forEach((range, i) => {
    if (!(range.database in file.databases)) problems.push(`ranges[${i}].database: "${range.database}" is not in databases`);
    if (range.to < range.from) problems.push(`ranges[${i}]: ends (${range.to}) before it starts (${range.from})`);
    if (range.from !== next) {
      problems.push(
        range.from < next
          ? `ranges[${i}]: starts at ${range.from}, overlapping the range before (which ends at ${next - 1})`
          : `ranges[${i}]: starts at ${range.from}, leaving shards ${next}..${range.from - 1} without a database`,
      );
    }
    next = range.to + 1;
  });
  if (next !== file.shardCount) {
    problems.push(next < file.shardCount
      ? `ranges: shards ${next}..${file.shardCount - 1} have no database`
      : `ranges: the last range ends at ${next - 1}, past shardCount - 1 (${file.shardCount - 1})`);
  }
  const used = new Set(file.ranges.map((r) => r.database));
  for (const name of names) if (!used.has(name) && name !== home) problems.push(`databases.${name}: holds no range`);
  if (problems.length > 0) throw new Error(`invalid shard map:\n${problems.map((p) => `  ✖ ${p}`).join("\n")}`);
  return { version: file.version, shardCount: file.shardCount, databases, home, ranges: file.ranges };
}

export async function loadShardMap(path: string, env: Record<string, string | undefined>): Promise<ShardMap> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new Error(`shard map ${path} could not be read: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`shard map ${path} is not JSON: ${(error as Error).message}`);
  }
  try {
    return parseShardMap(json, env);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}

/** The map of one database holding every shard (no SHARD_MAP). */
export function singleDatabaseMap(url: string, shardCount: number): ShardMap {
  return { version: 1, shardCount, databases: { main: url }, home: "main", ranges: [{ from: 0, to: shardCount - 1, database: "main" }] };
}

/** The database holding a shard: binary search over the sorted ranges. */
export function databaseOfShard(map: ShardMap, shard: number): string {
  let lo = 0;
  let hi = map.ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const range = map.ranges[mid]!;
    if (shard < range.from) hi = mid - 1;
    else if (shard > range.to) lo = mid + 1;
    else return range.database;
  }
  throw new RangeError(`shard ${shard} is outside the map (0..${map.shardCount - 1})`);
}
