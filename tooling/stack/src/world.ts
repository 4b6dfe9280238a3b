/**
 * `pnpm dev`'s world: its flags (`--empty`, `--still`, `--speed`) and the seeding
 * of the world on first start, which runs tooling/simulator's seeder as a child
 * process (its progress bar on this terminal) so the stack does not depend on
 * the seeder, which depends on the stack.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { parseArgs } from "node:util";
import { repoRoot, type StackInfo } from "./stack";

export interface DevWorldOptions {
  /** Seed the world on first start (not with `--empty`). */
  seed: boolean;
  /** Start the simulator (not with `--still`). */
  simulate: boolean;
  /** The simulator's speed, checked by the simulator (`1d/min` by default). */
  speed: string;
  /** Messenger nodes sharing its port, over NATS (`--nodes N`, 1 by default). */
  nodes: number;
  /** PostgreSQL servers for the messenger's shards (`--shard-databases N`, 1 by default). */
  shardDatabases: number;
}

export const DEV_USAGE = "pnpm dev [--empty] [--still] [--speed pause|realtime|1d/min|1d/s|<n><ms|s|min|h|d>/<s|min|h>] [--nodes N] [--shard-databases N]";

/** Parses `pnpm dev`'s flags; throws with the usage on anything else. */
export function parseDevArgs(args: readonly string[]): DevWorldOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { empty: { type: "boolean" }, still: { type: "boolean" }, speed: { type: "string" }, nodes: { type: "string" }, "shard-databases": { type: "string" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new Error(`${(error as Error).message}\nusage: ${DEV_USAGE}`, { cause: error });
  }
  const nodes = Number(values.nodes ?? "1");
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 64) {
    throw new Error(`--nodes must be a whole number from 1 to 64, got "${values.nodes}"\nusage: ${DEV_USAGE}`);
  }
  const shardDatabases = Number(values["shard-databases"] ?? "1");
  if (!Number.isInteger(shardDatabases) || shardDatabases < 1 || shardDatabases > 8) {
    throw new Error(`--shard-databases must be a whole number from 1 to 8, got "${values["shard-databases"]}"\nusage: ${DEV_USAGE}`);
  }
  return { seed: !values.empty, simulate: !values.still, speed: values.speed ?? "1d/min", nodes, shardDatabases };
}

/** Seeds the world into the stack's databases unless already there (the child decides and says so). */
export function seedWorld(info: StackInfo): Promise<void> {
  const messenger = info.services.messenger?.databaseUrl;
  const facebook = info.services.facebook?.databaseUrl;
  if (!messenger) return Promise.reject(new Error("the messenger has no database to seed"));
  const child = spawn(process.execPath, ["--import", "tsx", "src/seed-world.ts"], {
    cwd: path.join(repoRoot, "tooling/simulator"),
    env: {
      ...process.env,
      MESSENGER_DATABASE_URL: messenger,
      ...(facebook ? { FACEBOOK_DATABASE_URL: facebook } : {}),
      // With --shard-databases: seeded accounts go to their shard's database, as registered ones do.
      ...(info.shards ? { SHARD_MAP: info.shards.map } : {}),
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`seeding the world failed (exit ${code}); pnpm dev --empty starts without it`))));
  });
}
