/**
 * From what one node sustained to what a billion users need.
 *
 * A run drives k shards at one load level L (average day or the NYE peak). If the
 * thresholds held and the generator delivered the planned rate, the node sustained
 * k shards at L; if it delivered less, it sustained k × achieved / planned. Load at
 * another level M scales both messages (R_M / R_L) and connections (c_M / c_L, the
 * connected shares); the larger factor decides. Nodes for N users are then
 * ceil(S × (N / population) × factor / sustained shards).
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

const loadOf = (p: ReturnType<typeof planFor>, level: Level): Load => (level === "average" ? p.average : p.peak);

export function project(input: ProjectionInput): Projection {
  const p = planFor(input);
  const target = input.target ?? MONTHLY_USERS.value;
  const delivered = input.plannedMessagesPerSecond > 0 ? Math.min(input.abovePlan ? Infinity : 1, input.achievedMessagesPerSecond / input.plannedMessagesPerSecond) : 0;
  // Within 2% of the plan counts as the plan (Poisson arrivals over a finite run).
  const ratio = !input.abovePlan && delivered >= 0.98 ? 1 : delivered;
  const sustainedShards = input.thresholdsPassed && !input.generatorSaturated ? p.sample.shards * ratio : 0;
  const run = loadOf(p, input.level);
  const nodesAt = (level: Level): number | null => {
    if (sustainedShards <= 0) return null;
    const other = loadOf(p, level);
    const factor = Math.max(other.messagesPerSecond / run.messagesPerSecond, other.connectedShare / run.connectedShare);
    const shardsNeeded = p.sample.shardCount * (target / p.sample.population) * factor;
    return Math.ceil(shardsNeeded / sustainedShards - 1e-9);
  };
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
