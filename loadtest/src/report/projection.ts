/**
 * From what one node sustained to what a billion users need.
 *
 * A run drives k shards at one load level L (average day or the NYE peak). If the
 * thresholds held and the generator delivered the planned rate, the node sustained
 * k shards at L; if it delivered less, it sustained k × achieved / planned. Load at
 * another level M scales both messages (R_M / R_L) and connections (c_M / c_L, the
 * connected shares). Both are expressed as the two limits of one node — the
 * connections it held and the messages/s it carried within the thresholds — and
 * nodes needed = ceil(max(connections / connection limit, messages/s / message
 * limit)), the same rule `pnpm bench relay --realistic` applies to what it held.
 */
import { MONTHLY_USERS } from "../model/figures";
import { plan as planFor, type Load, type SampleSpec } from "../model/workload";

export type Level = "average" | "peak";

export interface ProjectionInput extends SampleSpec {
  level: Level;
  plannedMessagesPerSecond: number;
  achievedMessagesPerSecond: number;
  thresholdsPassed: boolean;
  /** The load generator could not keep up (dropped iterations, late timers, CPU): nothing was measured about the server. */
  generatorSaturated?: boolean;
  /** The run may carry more than its plan (breakpoint): sustained shards then exceed the shards run. */
  abovePlan?: boolean;
  /** Target population (default 1e9). */
  target?: number;
}

export interface Projection {
  /** Shards one node sustained within the thresholds at the run's level (0: it did not). */
  sustainedShards: number;
  /** Nodes needed for the target population, or null when nothing was sustained. */
  nodes: Record<Level, number | null>;
  target: number;
  explanation: string;
}

/** What one node held within the latency target. */
export interface NodeLimits {
  /** Connected devices held. */
  connections: number;
  /** Messages per second carried. */
  messagesPerSecond: number;
}

/** What a population asks of its nodes at a level. */
export interface Demand {
  connections: number;
  messagesPerSecond: number;
}

export interface NodesNeeded {
  nodes: number;
  /** The limit that decides (the larger quotient). */
  boundBy: "connections" | "messages";
  byConnections: number;
  byMessages: number;
}

/** nodes = ceil(max(connections / connection limit, messages/s / message limit)). */
export function nodesNeeded(demand: Demand, limits: NodeLimits): NodesNeeded {
  if (!(limits.connections > 0) || !(limits.messagesPerSecond > 0)) throw new RangeError("node limits must be positive");
  const byConnections = demand.connections / limits.connections;
  const byMessages = demand.messagesPerSecond / limits.messagesPerSecond;
  // 1e-9: a quotient that is whole up to float error is not one node more.
  return { nodes: Math.ceil(Math.max(byConnections, byMessages) - 1e-9), boundBy: byMessages > byConnections ? "messages" : "connections", byConnections, byMessages };
}

/** Connected devices and messages/s of `users` users (default the 1e9 population) at a level. */
export function populationDemand(level: Level, users: number = MONTHLY_USERS.value): Demand {
  const p = planFor({ shards: 1, shardCount: 1, population: MONTHLY_USERS.value });
  const load = loadOf(p, level);
  const scale = users / MONTHLY_USERS.value;
  return { connections: p.usersInSample * load.connectedShare * scale, messagesPerSecond: load.messagesPerSecond * scale };
}

const loadOf = (p: ReturnType<typeof planFor>, level: Level): Load => (level === "average" ? p.average : p.peak);

export function project(input: ProjectionInput): Projection {
  const p = planFor(input);
  const target = input.target ?? MONTHLY_USERS.value;
  const delivered = input.plannedMessagesPerSecond > 0 ? Math.min(input.abovePlan ? Infinity : 1, input.achievedMessagesPerSecond / input.plannedMessagesPerSecond) : 0;
  // Within 2% of the plan counts as the plan (Poisson arrivals over a finite run).
  const ratio = !input.abovePlan && delivered >= 0.98 ? 1 : delivered;
  const sustainedShards = input.thresholdsPassed && !input.generatorSaturated ? p.sample.shards * ratio : 0;
  const run = loadOf(p, input.level);
  // The node's two limits: the run's connections and messages/s, scaled by the share of the plan it carried.
  const usersPerShard = p.sample.population / p.sample.shardCount;
  const limits: NodeLimits = {
    connections: sustainedShards * usersPerShard * run.connectedShare,
    messagesPerSecond: (run.messagesPerSecond / p.sample.shards) * sustainedShards,
  };
  const nodesAt = (level: Level): number | null => (sustainedShards <= 0 ? null : nodesNeeded(populationDemand(level, target), limits).nodes);
  const explanation = input.generatorSaturated
    ? "the load generator was saturated, so the run says nothing about the node: rerun split over more generators"
    : !input.thresholdsPassed
    ? `thresholds failed at ${p.sample.shards} shards: rerun with fewer --shards to find what one node sustains`
    : input.abovePlan
      ? `the node carried ${(delivered * 100).toFixed(0)}% of the plan for ${p.sample.shards} shards before delivery slowed past the threshold, so it sustains ${sustainedShards.toFixed(2)} shards`
      : ratio < 1
      ? `the run reached ${(delivered * 100).toFixed(1)}% of the planned rate, so one node sustained ${sustainedShards.toFixed(2)} shards`
      : `one node sustained all ${p.sample.shards} shards at the ${input.level === "peak" ? "NYE 2016 peak" : "average day"} rate`;
  return { sustainedShards, nodes: { average: nodesAt("average"), peak: nodesAt("peak") }, target, explanation };
}
