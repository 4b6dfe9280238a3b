/**
 * `pnpm dev` runs this once PostgreSQL and the services are up (unless `--empty`):
 * seeds the world on first start with a progress bar on stderr, or says it is
 * already there. Its own process so the stack does not depend on the seeder.
 */
import cliProgress from "cli-progress";
import { loadShardMap } from "@handshake/db/messenger-shards";
import { seedWorldEnv, shardMapVariables } from "./env";
import { seedWorldOnce, worldUserIds } from "./world";

const env = seedWorldEnv();

const bar = new cliProgress.SingleBar(
  { format: "seeding the world [{bar}] {percentage}% {value}/{total} people", stream: process.stderr, hideCursor: true },
  cliProgress.Presets.shades_classic,
);
let started = false;
const t0 = performance.now();
try {
  const outcome = await seedWorldOnce({
    messengerDatabaseUrl: env.MESSENGER_DATABASE_URL,
    shardMap: env.SHARD_MAP ? await loadShardMap(env.SHARD_MAP, shardMapVariables()) : null,
    shardCount: env.SHARD_COUNT,
    facebookDatabaseUrl: env.FACEBOOK_DATABASE_URL ?? null,
    onProgress: (event) => {
      if (event.phase !== "seed") return;
      if (!started) bar.start(event.total, event.done);
      started = true;
      bar.update(event.done);
    },
  });
  bar.stop();
  if (outcome.seeded) {
    const rows = outcome.result.tables.reduce((sum, t) => sum + t.rows, 0);
    console.log(`Seeded the world: ${outcome.result.users} people (${rows} rows) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } else {
    console.log(`The world is already seeded (${outcome.present} of ${worldUserIds().length} people); not seeding again`);
  }
} catch (error) {
  bar.stop();
  console.error(`Seeding the world failed: ${(error as Error).message}`);
  process.exit(1);
}
