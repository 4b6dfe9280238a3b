/**
 * Getting the sample's fixtures: `pnpm population seed` (tooling/seed, owned
 * elsewhere) writes them in the format of docs/fixtures.md; we call it as a
 * subprocess and check what it wrote.
 */
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { repoRoot } from "@handshake/stack";

export const fixtureMetaSchema = z.object({
  version: z.literal(1),
  size: z.number().int().positive(),
  shardCount: z.number().int().positive(),
  shards: z.array(z.number().int().min(0)),
  users: z.number().int().min(0),
  outside: z.array(z.object({ accountId: z.uuid(), deviceId: z.number().int() })).min(1),
});
export type FixtureMeta = z.infer<typeof fixtureMetaSchema>;

export async function readFixtureMeta(dir: string): Promise<FixtureMeta> {
  const raw = await readFile(path.join(dir, "meta.json"), "utf8").catch(() => {
    throw new Error(`no fixture in ${dir} (meta.json missing): seed one with \`pnpm population seed\``);
  });
  return fixtureMetaSchema.parse(JSON.parse(raw));
}

export interface SeedRequest {
  shards: number;
  shardCount: number;
  out: string;
  messengerDatabaseUrl?: string | undefined;
  /** The Facebook side's database (profiles and address books for the sample); seeded alongside. */
  facebookDatabaseUrl?: string | undefined;
}

/** Seeds shards 0..k-1 through `pnpm population seed` and returns the fixture's meta. */
export async function seedSample(request: SeedRequest): Promise<FixtureMeta> {
  const args = [
    "population",
    "seed",
    "--shards",
    `0..${request.shards - 1}`,
    "--shard-count",
    String(request.shardCount),
    "--out",
    request.out,
    ...(request.messengerDatabaseUrl ? ["--messenger-database-url", request.messengerDatabaseUrl] : []),
    ...(request.facebookDatabaseUrl ? ["--facebook-database-url", request.facebookDatabaseUrl] : []),
  ];
  console.log(`seeding: pnpm ${args.join(" ")}`);
  const run = spawnSync("pnpm", ["--silent", ...args], { cwd: repoRoot, stdio: "inherit" });
  if (run.status !== 0) throw new Error(`pnpm population seed failed (exit ${run.status}); see its output above`);
  const meta = await readFixtureMeta(request.out);
  if (meta.shardCount !== request.shardCount || meta.shards.length !== request.shards) {
    throw new Error(`the seeded fixture has ${meta.shards.length} of ${meta.shardCount} shards, not ${request.shards} of ${request.shardCount}`);
  }
  return meta;
}
