import { type PopulationSpec } from "./spec";
import { modelOf } from "./model";
import { type User, type UserCore, checkUserId, userAt, userCoreAt } from "./users";

/*
 * Shard layout: S equal contiguous id ranges, shard s = [s * N/S, (s + 1) * N/S).
 * Contiguous ranges keep a shard's rows together in the databases (range
 * partitioning, sequential COPY) and make "shard ranges -> servers" maps trivial.
 * The country, degree class and phone of an id come from keyed permutations of the
 * id, so every shard is a uniform sample of the population (country and OS mix
 * equal to the spec's in expectation).
 */

/** The half-open id range [start, end) of a shard. */
export interface IdRange {
  start: number;
  end: number;
}

function checkShard(spec: PopulationSpec, s: number): void {
  if (!Number.isSafeInteger(s) || s < 0 || s >= spec.shardCount) {
    throw new RangeError(`shard must be an integer in [0, ${spec.shardCount}), got ${s}`);
  }
}

/** Users per shard: N / S. */
export function shardSize(spec: PopulationSpec): number {
  return spec.size / spec.shardCount;
}

/** The shard of user i. */
export function shardOf(spec: PopulationSpec, i: number): number {
  checkUserId(spec, i);
  return Math.floor(i / shardSize(spec));
}

/** The ids of shard s. */
export function shardRange(spec: PopulationSpec, s: number): IdRange {
  checkShard(spec, s);
  const size = shardSize(spec);
  return { start: s * size, end: (s + 1) * size };
}

/** The users of shard s, in id order, generated directly (never scanning N). */
export function* usersOfShard(spec: PopulationSpec, s: number): Generator<User> {
  const { start, end } = shardRange(spec, s);
  for (let i = start; i < end; i++) yield userAt(spec, i);
}

/** Like {@link usersOfShard} without names (faster). */
export function* userCoresOfShard(spec: PopulationSpec, s: number): Generator<UserCore> {
  const { start, end } = shardRange(spec, s);
  for (let i = start; i < end; i++) yield userCoreAt(spec, i);
}

/**
 * Parses a shard list such as "0-3,7,10-11" into sorted distinct shard numbers.
 * Throws a RangeError naming the bad part.
 */
export function parseShardList(text: string, shardCount: number): number[] {
  const out = new Set<number>();
  for (const raw of text.split(",")) {
    const part = raw.trim();
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new RangeError(`bad shard list part "${part}": expected N or N-M`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new RangeError(`bad shard range "${part}": end before start`);
    if (b >= shardCount) throw new RangeError(`shard ${b} out of range: there are ${shardCount} shards (0-${shardCount - 1})`);
    for (let s = a; s <= b; s++) out.add(s);
  }
  return [...out].sort((x, y) => x - y);
}

/** A membership test for "user i belongs to one of these shards". */
export function sampleMembership(spec: PopulationSpec, shards: readonly number[]): (i: number) => boolean {
  const member = new Uint8Array(spec.shardCount);
  for (const s of shards) {
    checkShard(spec, s);
    member[s] = 1;
  }
  const size = modelOf(spec).shardSize;
  return (i) => member[Math.floor(i / size)] === 1;
}
