/** `pnpm dev [--empty] [--still] [--speed S] [--nodes N] [--shard-databases N]`: the whole stack in the foreground; Ctrl-C stops everything. */
import { createLogFormatter } from "./log-format";
import { findRunningStack, startStack } from "./stack";
import { stackEnv } from "./env";
import { parseDevArgs, seedWorld } from "./world";

let world;
try {
  world = parseDevArgs(process.argv.slice(2));
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}

const format = createLogFormatter();

const already = await findRunningStack();
if (already) {
  console.error(`A Handshake stack is already running (pid ${already.pid}). Stop it first, or use it:`);
  for (const [name, service] of Object.entries(already.services)) console.error(`  ${name.padEnd(10)} ${service.description}`);
  process.exit(1);
}

console.log(stackEnv.DATABASE_URL ? "Using the PostgreSQL server in DATABASE_URL" : "Starting embedded PostgreSQL (data in .data/postgres)…");
const stack = await startStack({
  databaseUrl: stackEnv.DATABASE_URL,
  postgresPort: stackEnv.HANDSHAKE_POSTGRES_PORT,
  env: { LOG_LEVEL: stackEnv.LOG_LEVEL, SIM_SPEED: world.speed },
  announce: true,
  messengerNodes: world.nodes,
  shardDatabases: world.shardDatabases,
  include: world.simulate ? ["simulator"] : [],
  // once both services have migrated their databases, before the dashboard and the simulator
  beforeStart: (service, info) => (service === "web" && world.seed ? seedWorld(info) : Promise.resolve()),
  onLine: (name, line) => console.log(format(name, line)),
  onNotice: (name, message) => console.log(format("stack", `${name} ${message}`)),
  // A crashed service is started again with backoff; five crashes in a row stop the stack.
  restart: { maxRestarts: 5 },
}).catch((error: unknown) => {
  console.error(`\nThe stack did not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

console.log("\nHandshake is up:");
console.log(`  ${"postgres".padEnd(10)} ${stack.info.postgres.embedded ? "embedded, " : ""}${stack.info.postgres.url.replace(/:[^:@/]*@/, ":***@")}`);
if (stack.info.nats) console.log(`  ${"nats".padEnd(10)} ${stack.info.nats.url}  (bus between ${stack.info.nats.nodes} messenger nodes sharing one port)`);
if (stack.info.shards) {
  console.log(`  ${"shards".padEnd(10)} ${stack.info.shards.databases.length} PostgreSQL servers for the messenger's shards, map in ${stack.info.shards.map}`);
}
for (const [name, service] of Object.entries(stack.info.services)) console.log(`  ${name.padEnd(10)} ${service.description}`);
console.log(`  ${"admin".padEnd(10)} token in .data/stack.json (header x-admin-token), e.g. to move the simulation clock`);
const web = stack.info.services.web;
if (web) console.log(`\nDashboard: ${web.baseUrl}/#token=${encodeURIComponent(stack.info.adminToken)}`);
console.log("\nTry `pnpm demo` in another terminal. Ctrl-C stops everything.\n");

let stopping = false;
const stopAll = (message: string, exitCode: number) => {
  if (stopping) return;
  stopping = true;
  console.log(message);
  void stack.stop().then(() => process.exit(exitCode));
};
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => stopAll("\nStopping…", 0));
for (const supervisor of Object.values(stack.processes)) {
  supervisor.once("gave-up", () => stopAll(`\n${supervisor.name} keeps crashing (see its log above); stopping the stack.`, 1));
}
