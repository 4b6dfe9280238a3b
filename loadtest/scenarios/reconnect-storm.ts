/**
 * reconnect-storm: connected users run steadily, then every connection drops at
 * once; messages keep arriving for them while they are away (OUTAGE seconds), and
 * then all reconnect together, resuming from their last envelope id, so the offline
 * queues drain. Measures reconnect time, live vs backlog delivery latency and the
 * delivered ratio (every queued message must reach its recipient).
 */
import type { Options } from "k6/options";
import exec from "k6/execution";
import { config } from "./lib/config.ts";
import { ConnectedGroup, firstPeople, layoutOf, sleepMs } from "./lib/connected-users.ts";
import { Trend } from "k6/metrics";

const connected = layoutOf("connected", firstPeople(config.connected));
const GRACE_SECONDS = 15;
/** Reconnect to "started" for every connection of the storm. */
const reconnectLatency = new Trend("reconnect_latency", true);

export const options: Options = {
  scenarios: {
    reconnect_storm: {
      executor: "per-vu-iterations",
      exec: "stormingUsers",
      vus: connected.vus,
      iterations: 1,
      maxDuration: `${config.durationSeconds + config.outageSeconds + GRACE_SECONDS + 60}s`,
    },
  },
  thresholds: {
    "delivery_latency{scenario:reconnect_storm,phase:live}": ["p(99)<500"],
    "reconnect_latency{scenario:reconnect_storm}": ["p(95)<2000"],
    "delivered{scenario:reconnect_storm}": ["rate>0.99"],
    "errors{scenario:reconnect_storm}": ["rate<0.01"],
    "checks{scenario:reconnect_storm}": ["rate>0.99"],
  },
};

export async function stormingUsers(): Promise<void> {
  // Messages sent while the connections were down (until they are back) are backlog.
  let outageFrom = Infinity;
  let backAt = Infinity;
  const group = new ConnectedGroup({
    group: connected.groupOf(exec.scenario.iterationInTest),
    layout: connected,
    phase: (sentAt) => (sentAt >= outageFrom && sentAt < backAt ? "backlog" : "live"),
    sendWhileOffline: true,
  });
  await group.connect(Math.min(5000, config.durationSeconds * 100));
  await sleepMs(1000);
  const third = (config.durationSeconds * 1000) / 3;
  const sending = group.sendUntil(Date.now() + 2 * third + config.outageSeconds * 1000);
  await sleepMs(third);

  // The storm: every connection drops at once (all VUs share the wall clock's phase).
  outageFrom = Date.now();
  group.closeAll();
  // Acks still unanswered when the socket went are re-sent after resuming.
  await sleepMs(200);
  const resumeFrom = new Map<number, { lastEventId: string | null; unacked: string[] }>();
  for (const [index, connection] of group.connections) {
    resumeFrom.set(index, { lastEventId: connection.lastEventId, unacked: connection.unconfirmedAcks() });
  }
  group.connections.clear();
  await sleepMs(config.outageSeconds * 1000);

  const reconnectStart = Date.now();
  await group.connect(0, resumeFrom);
  for (const connection of group.connections.values()) {
    if (connection.started) reconnectLatency.add(connection.startedAt - reconnectStart);
  }
  backAt = Date.now();
  await sending;
  await group.settle(GRACE_SECONDS * 1000);
  group.closeAll();
}
