/**
 * steady: the sample's connected users hold their inboxes open, ack what arrives,
 * and send at the plan's per-shard rate × k (`RATE`). Measures end-to-end delivery
 * latency (send time in the content -> recipient's socket), the delivered ratio
 * (delivery receipts back at the sender) and errors.
 *
 *   k6 run --no-usage-report -e FIXTURES=$PWD/loadtest/fixtures/sample -e RATE=200 \
 *     -e CONNECTED=2000 -e DURATION=120 loadtest/scenarios/steady.ts
 */
import type { Options } from "k6/options";
import exec from "k6/execution";
import { config } from "./lib/config.ts";
import { ConnectedGroup, firstPeople, layoutOf, sleepMs } from "./lib/connected-users.ts";

const connected = layoutOf("connected", firstPeople(config.connected));
const GRACE_SECONDS = 10;

export const options: Options = {
  scenarios: {
    steady: {
      executor: "per-vu-iterations",
      exec: "connectedUsers",
      vus: connected.vus,
      iterations: 1,
      maxDuration: `${config.durationSeconds + GRACE_SECONDS + 60}s`,
    },
  },
  thresholds: {
    "delivery_latency{scenario:steady}": ["p(50)<100", "p(99)<500"],
    "receipt_latency{scenario:steady}": ["p(99)<1000"],
    "delivered{scenario:steady}": ["rate>0.99"],
    "errors{scenario:steady}": ["rate<0.01"],
    "checks{scenario:steady}": ["rate>0.99"],
  },
};

/** One VU: connect its group, send for DURATION, wait for the last receipts, hang up. */
export async function connectedUsers(): Promise<void> {
  const group = new ConnectedGroup({ group: connected.groupOf(exec.scenario.iterationInTest), layout: connected });
  await group.connect(Math.min(5000, config.durationSeconds * 100));
  // Everyone else connects too before sends that expect receipts start.
  await sleepMs(1000);
  await group.sendUntil(Date.now() + config.durationSeconds * 1000);
  await group.settle(GRACE_SECONDS * 1000);
  group.closeAll();
}
