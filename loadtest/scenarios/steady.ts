/**
 * steady: the sample's connected users hold their inboxes open and ack what arrives
 * (`steady_holders`, one VU per USERS_PER_VU users), while an open-model sender
 * (`steady`, constant-arrival-rate at RATE msg/s) sends on their behalf. Measures
 * delivery latency (send time in the content -> the frame read off the recipient's
 * socket), receipt latency (send time in the UUIDv7 id -> receipt at the sender's
 * socket), the delivered share (receipts / receipts_expected), errors, and whether
 * the generator itself kept up (dropped_iterations, generator_loop_lag).
 *
 *   k6 run --no-usage-report -e FIXTURES=$PWD/loadtest/fixtures/sample -e RATE=200 \
 *     -e CONNECTED=2000 -e DURATION=120 loadtest/scenarios/steady.ts
 */
import type { Options } from "k6/options";
import { arrivalRate, CONNECT_SPREAD_SECONDS, SEND_START_SECONDS, senderVus, SETTLE_SECONDS } from "../src/model/timeline.ts";
import { config } from "./lib/config.ts";
import { holdGroupUntil } from "./lib/holders.ts";
import { firstPeople, layoutOf } from "./lib/layout.ts";
import { baseOptions, holderThresholds, senderThresholds } from "./lib/options.ts";
import { sendMessage } from "./lib/senders.ts";

export { handleSummary } from "./lib/summary.ts";

const connected = layoutOf("connected", firstPeople(config.connected));
const holdSeconds = SEND_START_SECONDS + config.durationSeconds + SETTLE_SECONDS;

export const options: Options = {
  ...baseOptions,
  scenarios: {
    steady_holders: {
      executor: "per-vu-iterations",
      exec: "holders",
      vus: connected.vus,
      iterations: 1,
      maxDuration: `${holdSeconds + 60}s`,
    },
    steady: {
      executor: "constant-arrival-rate",
      exec: "send",
      ...arrivalRate(config.messagesPerSecond),
      duration: `${config.durationSeconds}s`,
      startTime: `${SEND_START_SECONDS}s`,
      ...senderVus(config.messagesPerSecond),
    },
  },
  thresholds: {
    "delivery_latency{scenario:steady_holders}": ["p(50)<100", "p(99)<500"],
    "messages_received{scenario:steady_holders}": ["count>0"],
    "receipt_latency{scenario:steady_holders}": ["p(99)<1000"],
    "receipts{scenario:steady_holders}": ["count>0"],
    "messages_sent{scenario:steady}": ["count>0"],
    "errors{scenario:steady}": ["rate<0.01"],
    "errors{scenario:steady_holders}": ["rate<0.01"],
    "checks{scenario:steady}": ["rate>0.99"],
    ...senderThresholds("steady"),
    ...holderThresholds("steady_holders"),
  },
};

/** One holder VU: connect its group, stay until the senders are done and the last receipts are in, hang up. */
export async function holders(): Promise<void> {
  await holdGroupUntil(connected, holdSeconds, CONNECT_SPREAD_SECONDS * 1000);
}

/** One arrival: one message. */
export async function send(): Promise<void> {
  await sendMessage(connected);
}
