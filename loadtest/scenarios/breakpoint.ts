/**
 * breakpoint: finds a node's capacity. Connected users are held as in steady; the
 * send rate ramps (ramping-arrival-rate) from a quarter of the plan's RATE to
 * BREAKPOINT_MAX_FACTOR × RATE over DURATION, and k6 aborts the test as soon as
 * delivery p99 or dropped iterations cross their thresholds (abortOnFail, evaluated
 * after a short delay so the first seconds' few samples do not decide). The rate the
 * run had reached then (report: throughput over time) is what one node sustained.
 */
import type { Options } from "k6/options";
import { BREAKPOINT_MAX_FACTOR } from "../src/model/breakpoint.ts";
import { arrivalRate, CONNECT_SPREAD_SECONDS, SEND_START_SECONDS, senderVus, SETTLE_SECONDS } from "../src/model/timeline.ts";
import { config } from "./lib/config.ts";
import { holdGroupUntil } from "./lib/holders.ts";
import { firstPeople, layoutOf } from "./lib/layout.ts";
import { baseOptions, holderThresholds } from "./lib/options.ts";
import { sendMessage } from "./lib/senders.ts";

export { handleSummary } from "./lib/summary.ts";

const connected = layoutOf("connected", firstPeople(config.connected));
const holdSeconds = SEND_START_SECONDS + config.durationSeconds + SETTLE_SECONDS;
const top = config.messagesPerSecond * BREAKPOINT_MAX_FACTOR;
// One time unit for the whole ramp: the precision the top rate needs.
const { timeUnit } = arrivalRate(config.messagesPerSecond / 4);
const scale = Number.parseFloat(timeUnit);

export const options: Options = {
  ...baseOptions,
  scenarios: {
    breakpoint_holders: {
      executor: "per-vu-iterations",
      exec: "holders",
      vus: connected.vus,
      iterations: 1,
      maxDuration: `${holdSeconds + 60}s`,
    },
    breakpoint: {
      executor: "ramping-arrival-rate",
      exec: "send",
      startRate: Math.max(1, Math.round((config.messagesPerSecond / 4) * scale)),
      timeUnit,
      stages: [{ target: Math.max(1, Math.round(top * scale)), duration: `${config.durationSeconds}s` }],
      startTime: `${SEND_START_SECONDS}s`,
      ...senderVus(top),
    },
  },
  thresholds: {
    "delivery_latency{scenario:breakpoint_holders}": [{ threshold: "p(99)<500", abortOnFail: true, delayAbortEval: "10s" }],
    "messages_received{scenario:breakpoint_holders}": ["count>0"],
    "dropped_iterations{scenario:breakpoint}": [{ threshold: "count<10", abortOnFail: true, delayAbortEval: "10s" }],
    "http_req_failed{scenario:breakpoint}": [{ threshold: "rate<0.01", abortOnFail: true, delayAbortEval: "10s" }],
    ...holderThresholds("breakpoint_holders"),
  },
};

export async function holders(): Promise<void> {
  await holdGroupUntil(connected, holdSeconds, CONNECT_SPREAD_SECONDS * 1000);
}

export async function send(): Promise<void> {
  await sendMessage(connected);
}
