/** `pnpm dev` starts this as the stack's `simulator` service (not with `--still`). */
import { startControl } from "./control";
import { simulatorEnv } from "./env";
import { Simulator } from "./simulator";
import { parseSpeed } from "./speed";

const log = (message: string, fields: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ level: 30, time: Date.now(), msg: message, ...fields }));

const env = simulatorEnv();
let speed;
try {
  speed = parseSpeed(env.SIM_SPEED);
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
const simulator = new Simulator({
  messengerUrl: env.MESSENGER_URL,
  adminToken: env.ADMIN_TOKEN,
  speed,
  liveDevices: env.SIM_DEVICES,
  messageBudgetPerSecond: env.SIM_MESSAGE_BUDGET,
  shardCount: env.SHARD_COUNT,
  ...(env.FACEBOOK_URL ? { facebookUrl: env.FACEBOOK_URL } : {}),
  log,
});
await simulator.start();
const server = await startControl(simulator, { port: env.PORT, host: env.HOST, adminToken: env.ADMIN_TOKEN });
log("simulator running", { speed: speed.label, world: simulator.stats.world, devices: simulator.stats.devices });

const report = setInterval(() => {
  const s = simulator.stats;
  log("simulator", { clock: s.clock, speed: s.speed, sent: s.messages.sent, received: s.messages.received, consent: s.consent });
}, 30_000);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    clearInterval(report);
    server.close();
    void simulator.stop().then(() => process.exit(0));
  });
}
