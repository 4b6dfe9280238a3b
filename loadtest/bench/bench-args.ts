/**
 * Command-line options of the benches that take only numbers (`queue`, `caches`): node's
 * `parseArgs`, with `--help` and one way of refusing bad input (the problem, the usage
 * text, exit code 2).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Prints the problem and the usage text, and exits 2. */
export function usageError(usage: string, message: string): never {
  console.error(`error: ${message}\n${usage}`);
  process.exit(2);
}

/** The string options (with defaults), `-h`/`--help` added; unknown options and `--help` end the process. */
export function benchOptions<const Names extends string>(usage: string, defaults: Record<Names, string>): Record<Names, string> {
  const options: ParseArgsConfig["options"] = { help: { type: "boolean", short: "h", default: false } };
  for (const [name, value] of Object.entries<string>(defaults)) options[name] = { type: "string", default: value };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ options }) as { values: Record<string, string | boolean | undefined> });
  } catch (error) {
    usageError(usage, error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return values as Record<Names, string>;
}

/** `raw` as a whole number from 1 to `max`, or the process ends with the usage text. */
export function wholeOption(usage: string, name: string, raw: string, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) usageError(usage, `--${name} must be a whole number from 1 to ${max}, got "${raw}"`);
  return n;
}
