/**
 * When each scenario connects and sends, in seconds from the test's start. Plain data
 * with no imports: the k6 scripts import this file (their scenarios' startTime and
 * duration) and so does the report (the window a scenario's achieved rate is taken
 * over), so the two cannot drift apart.
 */

/** Holders open their connections over this many seconds (spread, not a SYN flood). */
export const CONNECT_SPREAD_SECONDS = 5;
/** Senders start once every holder had time to connect (spread + a margin). */
export const SEND_START_SECONDS = CONNECT_SPREAD_SECONDS + 2;
/** A subscription not "started" this long after the socket was created counts as failed. */
export const CONNECT_TIMEOUT_SECONDS = 10;
/** Holders stay connected this long after the last send for the last receipts. */
export const SETTLE_SECONDS = 10;

export type SendingScenario = "steady" | "reconnect-storm" | "business-broadcast" | "breakpoint";

export interface StormTimes {
  /** Seconds after the holders' scenario start at which every connection drops. */
  dropAt: number;
  /** Seconds after the holders' scenario start at which every holder reconnects. */
  reconnectAt: number;
  /** The senders' constant-arrival-rate duration (from SEND_START_SECONDS). */
  sendSeconds: number;
}

/**
 * The reconnect storm: a third of D live, OUTAGE seconds down while messages keep
 * queueing, then a third of D live again after the reconnect. Sends run the whole
 * time: 2D/3 + OUTAGE seconds.
 */
export function stormTimes(durationSeconds: number, outageSeconds: number): StormTimes {
  const third = durationSeconds / 3;
  return {
    dropAt: SEND_START_SECONDS + third,
    reconnectAt: SEND_START_SECONDS + third + outageSeconds,
    sendSeconds: 2 * third + outageSeconds,
  };
}

/** Seconds a scenario's senders run: the window its achieved message rate is measured over. */
export function sendWindowSeconds(scenario: SendingScenario, durationSeconds: number, outageSeconds: number): number {
  return scenario === "reconnect-storm" ? stormTimes(durationSeconds, outageSeconds).sendSeconds : durationSeconds;
}

/**
 * An arrival rate as k6 wants it: an integer `rate` per `timeUnit`. Rates below 1,000/s
 * are scaled up (e.g. 48.6/s -> 48,600 per 1000 s) so they are not rounded to whole
 * messages a second; k6 spaces arrivals timeUnit / rate apart either way.
 */
export function arrivalRate(perSecond: number): { rate: number; timeUnit: string } {
  if (!(perSecond > 0)) return { rate: 1, timeUnit: "86400s" }; // nothing planned: one a day, effectively none
  let scale = 1;
  while (perSecond * scale < 1000 && scale < 1e6) scale *= 10;
  return { rate: Math.max(1, Math.round(perSecond * scale)), timeUnit: `${scale}s` };
}

/**
 * VUs of an arrival-rate sender scenario: each iteration is one call, so VUs in use ≈
 * rate × response time. maxVUs allows `inFlightSeconds` of calls outstanding before
 * k6 stops starting iterations and counts them in `dropped_iterations` (the server,
 * or the generator, fell behind).
 */
export function senderVus(perSecond: number, inFlightSeconds = 2): { preAllocatedVUs: number; maxVUs: number } {
  const preAllocatedVUs = Math.max(2, Math.ceil(perSecond * 0.1));
  return { preAllocatedVUs, maxVUs: Math.max(preAllocatedVUs, Math.ceil(perSecond * inFlightSeconds) + 5) };
}

/**
 * HTTP calls one VU keeps in flight at most (rollout, setup()). Equal to the scripts'
 * `batchPerHost`, which k6 also uses as the transport's idle connections per host
 * (k6 internal/js/runner.go: MaxIdleConnsPerHost = batchPerHost): every connection a
 * VU opens is kept and reused instead of being closed after each burst.
 */
export const HTTP_IN_FLIGHT_PER_VU = 20;
