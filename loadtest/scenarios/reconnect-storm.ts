/**
 * reconnect-storm: connected users are held as in steady while an open-model sender
 * sends; then every connection drops at the same instant (anchored on the holders'
 * scenario start, the same moment in every VU and, started together, every
 * generator), stays down OUTAGE seconds while messages keep queueing, and all
 * reconnect together, resuming from their last envelope id, so the offline queues
 * drain. Measures reconnect time, live vs backlog delivery latency and the delivered
 * share (every queued message must come back as a receipt).
 */
import exec from "k6/execution";
import { Trend } from "k6/metrics";
import type { Options } from "k6/options";
import { arrivalRate, CONNECT_SPREAD_SECONDS, SEND_START_SECONDS, senderVus, SETTLE_SECONDS, stormTimes } from "../src/model/timeline.ts";
import { config } from "./lib/config.ts";
import { HolderGroup } from "./lib/holders.ts";
import { firstPeople, layoutOf } from "./lib/layout.ts";
import { baseOptions, holderThresholds, senderThresholds } from "./lib/options.ts";
import { sleepMs, sleepUntil } from "./lib/pacing.ts";
import { sendMessage } from "./lib/senders.ts";

export { handleSummary } from "./lib/summary.ts";

const connected = layoutOf("connected", firstPeople(config.connected));
const storm = stormTimes(config.durationSeconds, config.outageSeconds);
const GRACE_SECONDS = SETTLE_SECONDS + 5;
const holdSeconds = SEND_START_SECONDS + storm.sendSeconds + GRACE_SECONDS;
/** Reconnect to "started" for every connection of the storm. */
const reconnectLatency = new Trend("reconnect_latency", true);

export const options: Options = {
  ...baseOptions,
  scenarios: {
    reconnect_storm_holders: {
      executor: "per-vu-iterations",
      exec: "stormingHolders",
      vus: connected.vus,
      iterations: 1,
      maxDuration: `${holdSeconds + 60}s`,
    },
    reconnect_storm: {
      executor: "constant-arrival-rate",
      exec: "send",
      ...arrivalRate(config.messagesPerSecond),
      duration: `${storm.sendSeconds}s`,
      startTime: `${SEND_START_SECONDS}s`,
      ...senderVus(config.messagesPerSecond),
    },
  },
  thresholds: {
    "delivery_latency{scenario:reconnect_storm_holders,phase:live}": ["p(99)<500"],
    // A Trend takes no `count` threshold (grafana/k6 metrics/metric_type.go
    // supportedAggregationMethods: avg, min, max, med, p(N)); an empty one reads max 0.
    "delivery_latency{scenario:reconnect_storm_holders,phase:backlog}": ["max>0"],
    "reconnect_latency{scenario:reconnect_storm_holders}": ["p(95)<2000", "max>0"],
    "receipts{scenario:reconnect_storm_holders}": ["count>0"],
    "messages_sent{scenario:reconnect_storm}": ["count>0"],
    "errors{scenario:reconnect_storm}": ["rate<0.01"],
    "checks{scenario:reconnect_storm}": ["rate>0.99"],
    ...senderThresholds("reconnect_storm"),
    ...holderThresholds("reconnect_storm_holders"),
  },
};

export async function stormingHolders(): Promise<void> {
  const start = exec.scenario.startTime;
  const dropAt = start + storm.dropAt * 1000;
  // Messages sent while this group was away (until it is back) are backlog.
  let backAt = Infinity;
  const group = new HolderGroup({
    group: connected.groupOf(exec.scenario.iterationInTest),
    layout: connected,
    phase: (sentAt) => (sentAt >= dropAt && sentAt < backAt ? "backlog" : "live"),
  });
  await group.connect(CONNECT_SPREAD_SECONDS * 1000);
  await group.holdUntil(dropAt);

  // The storm: every connection of every VU drops at the same instant.
  group.closeAll();
  // Acks still unanswered when the socket went are re-sent after resuming.
  await sleepMs(200);
  const resumeFrom = group.resumePoints();
  await sleepUntil(start + storm.reconnectAt * 1000);

  const reconnectStart = Date.now();
  await group.connect(0, resumeFrom);
  for (const connection of group.connections.values()) {
    if (connection.started) reconnectLatency.add(connection.startedAt - reconnectStart);
  }
  backAt = Date.now();
  await group.holdUntil(start + holdSeconds * 1000);
  group.closeAll();
}

export async function send(): Promise<void> {
  await sendMessage(connected);
}
