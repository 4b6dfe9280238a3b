/**
 * The simulator's environment (the stack sets it), validated on first use: each
 * entry point asks only for what it needs, so `seed-world` runs without ADMIN_TOKEN.
 */
import { z } from "zod";

/** The messenger's SHARD_COUNT, as it reads it (default 10,000). */
const shardCount = z.coerce.number().int().min(1).max(1_000_000).default(10_000);

const simulatorSchema = z.object({
  /** The messenger's tRPC endpoint. */
  MESSENGER_URL: z.url().default("http://127.0.0.1:4100/trpc"),
  ADMIN_TOKEN: z.string().min(1),
  /** The Facebook side's tRPC endpoint: with it, the world's advertisers upload customer lists. */
  FACEBOOK_URL: z.url().optional(),
  /** The control endpoint's port. */
  PORT: z.coerce.number().int().min(0).max(65535).default(4300),
  HOST: z.string().default("127.0.0.1"),
  /** `pnpm dev --speed …`: pause, realtime, 1d/min, 1d/s, 6h/s … */
  SIM_SPEED: z.string().default("1d/min"),
  /** Live personal devices. */
  SIM_DEVICES: z.coerce.number().int().min(0).max(500).default(40),
  /** Messages per real second the whole world may send at most. */
  SIM_MESSAGE_BUDGET: z.coerce.number().min(0).max(200).default(10),
  /** The messenger's shard count (its SHARD_COUNT): seeded account ids carry the shard of the phone modulo it. */
  SHARD_COUNT: shardCount,
});

const seedWorldSchema = z.object({
  MESSENGER_DATABASE_URL: z.url(),
  /** Without it the world's Facebook profiles are not seeded. */
  FACEBOOK_DATABASE_URL: z.url().optional(),
  /** The messenger's shard map (`pnpm dev --shard-databases N`): accounts are seeded on their shard's database. */
  SHARD_MAP: z.string().min(1).optional(),
  /** The messenger's shard count when there is no map (the map's replaces it). */
  SHARD_COUNT: shardCount,
});

export type SimulatorEnv = z.infer<typeof simulatorSchema>;
export type SeedWorldEnv = z.infer<typeof seedWorldSchema>;

let simulator: SimulatorEnv | undefined;
let seedWorld: SeedWorldEnv | undefined;

/** The simulator process's settings (`src/main.ts`); throws a ZodError naming what is missing. */
export function simulatorEnv(env: NodeJS.ProcessEnv = process.env): SimulatorEnv {
  if (env !== process.env) return simulatorSchema.parse(env);
  return (simulator ??= simulatorSchema.parse(env));
}

/**
 * The variables a shard map's URLs name as `${VAR}` (its secrets). Their names come from
 * the map file, so no schema can list them; the map's parser checks each is set.
 */
export function shardMapVariables(env: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  return env;
}

/** The seeder's settings (`src/seed-world.ts`). */
export function seedWorldEnv(env: NodeJS.ProcessEnv = process.env): SeedWorldEnv {
  if (env !== process.env) return seedWorldSchema.parse(env);
  return (seedWorld ??= seedWorldSchema.parse(env));
}
