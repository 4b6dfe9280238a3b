import { parseArgs, type ParseArgsConfig } from "node:util";
import { type PopulationSpec, createSpec } from "../spec";
import { parseShardList } from "../shards";

/** A bad command line: main prints the message and the usage, exits 2. */
export class UsageError extends Error {}

/** Options shared by every command that works on a sample of shards. */
export const SAMPLE_OPTIONS = {
  shards: { type: "string" },
  "shard-count": { type: "string" },
  seed: { type: "string" },
  size: { type: "string" },
  progress: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

/** Parses argv strictly; unknown options and stray positionals are usage errors. */
export function parse<O extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** An integer option ("1e9" and "1_000_000" accepted), or the fallback when absent. */
export function intOption(name: string, raw: string | undefined, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  const n = Number(raw.replaceAll("_", ""));
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

/** The spec and the sorted shard list selected by the shared options. */
export function sampleFrom(values: { shards?: string; "shard-count"?: string; seed?: string; size?: string }): {
  spec: PopulationSpec;
  shards: number[];
} {
  const overrides: Partial<PopulationSpec> = {};
  if (values.seed !== undefined) overrides.seed = intOption("seed", values.seed, 0);
  if (values.size !== undefined) overrides.size = intOption("size", values.size, 1, 1);
  if (values["shard-count"] !== undefined) overrides.shardCount = intOption("shard-count", values["shard-count"], 1, 1);
  let spec: PopulationSpec;
  try {
    spec = createSpec(overrides);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.shards === undefined) throw new UsageError("--shards is required, e.g. --shards 0-3");
  try {
    return { spec, shards: parseShardList(values.shards, spec.shardCount) };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
