/**
 * The workload model: global rates divided over S equal shards, driven on k of them.
 *
 * A run drives k sampled shards at the per-shard rate. Shards are uniform samples
 * of the population (see packages/population shards.ts), so a contact of a sampled
 * user lies inside the sample with probability ≈ k / S: almost every send goes to
 * a contact outside it, which still costs the server a durable write (to a stub
 * account standing for that contact). Data is partitioned by recipient shard, so
 * the node hosting these k shards also receives the messages that users elsewhere
 * send to them and pushes them to the connected ones; a run stands those in by
 * sending the connected share of its messages to connected sample users, which is
 * also what lets it measure delivery latency and the delivered ratio.
 */
import {
  AVERAGE_MESSAGES_PER_SECOND,
  BUSINESS_SHARE_OF_MESSAGES,
  CONNECTIONS_PER_USER_PER_DAY,
  CONNECTED_SHARE_AT_PEAK,
  DIURNAL_PEAK_TO_MEAN,
  LISTS_PER_SECOND,
  MONTHLY_USERS,
  PEAK_MESSAGES_PER_SECOND,
  ROWS_PER_LIST,
} from "./figures";
import { BREAKPOINT_MAX_FACTOR } from "./breakpoint";
import { type ConnectionDemand } from "./generators";

export { BREAKPOINT_MAX_FACTOR };
import { HTTP_IN_FLIGHT_PER_VU, senderVus } from "./timeline";

export const SCENARIOS = ["steady", "reconnect-storm", "rollout", "business-broadcast", "custom-audience", "breakpoint"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface SampleSpec {
  /** Sampled shards (k). */
  shards: number;
  /** Shards in the population layout (S). */
  shardCount: number;
  /** Population size N (default: 1e9 monthly users). */
  population?: number;
}

export interface Load {
  messagesPerSecond: number;
  connectedShare: number;
  connected: number;
  /** Sends that go to contacts outside the sample (stub accounts): a durable write, no delivery. */
  outsideSendsPerSecond: number;
  /** Sends to connected sample users (delivered and acknowledged): the recipient side of the node. */
  deliveredPerSecond: number;
}

export interface Plan {
  sample: Required<SampleSpec>;
  usersInSample: number;
  /** Share of a sampled user's contacts that are inside the sample. */
  contactsInSample: number;
  average: Load;
  /** The busiest hour of an ordinary day (diurnal peak). */
  peakHour: Load;
  /** New Year's Eve 2016 at its daily average. */
  peak: Load;
  /** Custom Audiences: customer lists the sample's share of the Facebook side receives. */
  audiences: AudienceLoad;
}

export interface AudienceLoad {
  /** Lists per minute in the model (the sample's share of the world's lists). */
  modelListsPerMinute: number;
  /** Lists per minute a run drives: the model's, but at least one. */
  listsPerMinute: number;
  /** 10,000-row upload calls per list. */
  callsPerList: number;
  rowsPerList: number;
}

/** Most rows in one `audiences.upload` call (the Facebook side's limit). */
export const ROWS_PER_UPLOAD_CALL = 10_000;

/**
 * Custom Audience lists for a sample. The Facebook side is assumed partitioned like
 * the messenger (profiles by shard), so a node holding k of S shards matches its
 * k/S share of the world's lists, taken here as whole lists (assumption: each list is
 * matched where its rows live; a real deployment would split lists by shard).
 */
export function audienceLoad(sampleShare: number): AudienceLoad {
  const modelListsPerMinute = LISTS_PER_SECOND * 60 * sampleShare;
  return {
    modelListsPerMinute,
    listsPerMinute: Math.max(1, Math.round(modelListsPerMinute)),
    callsPerList: Math.ceil(ROWS_PER_LIST.value / ROWS_PER_UPLOAD_CALL),
    rowsPerList: ROWS_PER_LIST.value,
  };
}

export function checkSample(spec: SampleSpec): Required<SampleSpec> {
  const population = spec.population ?? MONTHLY_USERS.value;
  if (!Number.isInteger(spec.shardCount) || spec.shardCount < 1) throw new RangeError("--shard-count must be a positive integer");
  if (!Number.isInteger(spec.shards) || spec.shards < 1 || spec.shards > spec.shardCount) {
    throw new RangeError(`--shards must be an integer in [1, ${spec.shardCount}]`);
  }
  if (population % spec.shardCount !== 0) throw new RangeError("the population must divide evenly into shards");
  return { shards: spec.shards, shardCount: spec.shardCount, population };
}

/** Connected share at a given global rate: the peak share scaled by how busy the moment is. */
export function connectedShareAt(messagesPerSecond: number): number {
  const peakHourRate = AVERAGE_MESSAGES_PER_SECOND * DIURNAL_PEAK_TO_MEAN.value;
  // assumption: concurrent connections follow message volume, capped at the
  // published peak share (more traffic on New Year's Eve comes from the same
  // connected users sending more).
  return Math.min(1, CONNECTED_SHARE_AT_PEAK.value * Math.min(1, messagesPerSecond / peakHourRate));
}

function loadAt(globalPerSecond: number, sample: Required<SampleSpec>, usersInSample: number): Load {
  // The global rate is per 1e9 monthly users: a smaller population sends proportionally less.
  const messagesPerSecond = globalPerSecond * (usersInSample / MONTHLY_USERS.value);
  const connectedShare = connectedShareAt(globalPerSecond);
  const deliveredPerSecond = messagesPerSecond * connectedShare;
  return {
    messagesPerSecond,
    connectedShare,
    connected: Math.round(usersInSample * connectedShare),
    deliveredPerSecond,
    outsideSendsPerSecond: messagesPerSecond - deliveredPerSecond,
  };
}

export function plan(spec: SampleSpec): Plan {
  const sample = checkSample(spec);
  const usersInSample = (sample.population / sample.shardCount) * sample.shards;
  return {
    sample,
    usersInSample,
    contactsInSample: (usersInSample - 1) / (sample.population - 1),
    average: loadAt(AVERAGE_MESSAGES_PER_SECOND, sample, usersInSample),
    peakHour: loadAt(AVERAGE_MESSAGES_PER_SECOND * DIURNAL_PEAK_TO_MEAN.value, sample, usersInSample),
    peak: loadAt(PEAK_MESSAGES_PER_SECOND, sample, usersInSample),
    audiences: audienceLoad(usersInSample / sample.population),
  };
}

/** assumption (packages/population spec.ts): 0.5% of users are businesses, each with up to 50 customers online. */
const BUSINESS_CUSTOMERS_PER_USER = 0.005 * 50;

/**
 * Sockets a scenario holds towards the messenger at the load level run: the
 * connected users' WebSockets plus the HTTP connections of the VUs that send.
 */
export function connectionDemand(scenario: ScenarioName, load: Load, usersInSample: number, usersPerVu: number): ConnectionDemand {
  const senders = senderVus(load.messagesPerSecond).maxVUs;
  switch (scenario) {
    case "steady":
    case "reconnect-storm":
    case "breakpoint":
      return { websockets: load.connected, http: scenario === "breakpoint" ? senderVus(load.messagesPerSecond * BREAKPOINT_MAX_FACTOR).maxVUs : senders };
    case "business-broadcast":
      return { websockets: Math.round(usersInSample * BUSINESS_CUSTOMERS_PER_USER), http: senderVus(load.messagesPerSecond * BUSINESS_SHARE_OF_MESSAGES.value).maxVUs };
    case "rollout":
      return { websockets: 0, http: Math.ceil(usersInSample / usersPerVu) * HTTP_IN_FLIGHT_PER_VU };
    case "custom-audience":
      return { websockets: 0, http: 20 };
  }
}

/** What one connected device does, on average, at a load level (the realistic relay bench drives this). */
export interface DeviceRates {
  /** Messages a connected device sends per second. */
  sendsPerSecond: number;
  /** Share of its sends that go to a connected recipient (delivered live); the rest are stored for offline ones. */
  deliveredShare: number;
  /** New connections (reconnects) per connected device per second. */
  reconnectsPerSecond: number;
  /** Connected devices, messages/s and new connections/s of the whole population at this level. */
  population: { connected: number; messagesPerSecond: number; connectsPerSecond: number };
}

/** Per-connected-device rates of the 1e9 population at its average day or the NYE 2016 peak. */
export function deviceRates(level: "average" | "peak"): DeviceRates {
  const users = MONTHLY_USERS.value;
  const whole = plan({ shards: 1, shardCount: 1, population: users });
  const load = level === "average" ? whole.average : whole.peak;
  const connected = users * load.connectedShare;
  // assumption: sessions per user stay the same on NYE (more messages per session, not more sessions).
  const connectsPerSecond = (users * CONNECTIONS_PER_USER_PER_DAY.value) / 86_400;
  return {
    sendsPerSecond: load.messagesPerSecond / connected,
    deliveredShare: load.deliveredPerSecond / load.messagesPerSecond,
    reconnectsPerSecond: connectsPerSecond / connected,
    population: { connected, messagesPerSecond: load.messagesPerSecond, connectsPerSecond },
  };
}
