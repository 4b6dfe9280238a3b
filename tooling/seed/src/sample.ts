/**
 * Which population users a seeding run writes: the users of the sampled shards,
 * in population order, then a pool of "outside" users standing for every contact
 * that lives outside the sample (see loadtest/docs/fixtures.md).
 */
import { type PopulationSpec, type User, shardRange, shardSize, userAt } from "@handshake/population";
import type { SampleIdentity } from "./identity";

/** A population user as the seeding targets see it. */
export interface SeedUser {
  user: User;
  accountId: string;
  /** Device 1's secret (base64url); targets store only its hash. */
  secret: string;
  /** True for the outside pool (stubs that exist but never connect). */
  outside: boolean;
}

/** A sample: the spec, its sorted shards and the outside pool's population ids. */
export interface Sample {
  spec: PopulationSpec;
  shards: readonly number[];
  outside: readonly number[];
}

/** Users in the sampled shards. */
export function sampleUserCount(spec: PopulationSpec, shards: readonly number[]): number {
  return shards.length * shardSize(spec);
}

/**
 * `count` population ids outside the sample, spread evenly over the complement
 * (so over every other shard), deterministic in (spec, shards, count). Capped by
 * the number of users outside the sample.
 */
export function outsidePool(spec: PopulationSpec, shards: readonly number[], count: number): number[] {
  const size = shardSize(spec);
  const complement = spec.size - shards.length * size;
  const n = Math.min(count, complement);
  const sorted = [...shards].sort((a, b) => a - b);
  const ids: number[] = [];
  for (let j = 0; j < n; j++) {
    // rank within the complement -> population id: skip each sampled shard below it
    let id = Math.floor(((j + 0.5) * complement) / n);
    for (const s of sorted) if (id >= s * size) id += size;
    ids.push(id);
  }
  return ids;
}

/** The sample's users then the outside pool, in batches of at most `batchSize`. */
export function* seedBatches(sample: Sample, identity: SampleIdentity, batchSize: number): Generator<SeedUser[]> {
  let batch: SeedUser[] = [];
  const take = (i: number, outside: boolean): SeedUser[] | null => {
    const user = userAt(sample.spec, i);
    batch.push({ user, accountId: identity.accountIdOf(i, user.phone), secret: identity.secret(i), outside });
    if (batch.length < batchSize) return null;
    const full = batch;
    batch = [];
    return full;
  };
  for (const s of sample.shards) {
    const { start, end } = shardRange(sample.spec, s);
    for (let i = start; i < end; i++) {
      const full = take(i, false);
      if (full) yield full;
    }
  }
  for (const i of sample.outside) {
    const full = take(i, true);
    if (full) yield full;
  }
  if (batch.length > 0) yield batch;
}

/**
 * Position of population user i in the sample's users.json (population order), or
 * -1 when i is outside the sample.
 */
export function samplePosition(spec: PopulationSpec, shards: readonly number[]): (i: number) => number {
  const size = shardSize(spec);
  const slot = new Int32Array(spec.shardCount).fill(-1);
  [...shards].sort((a, b) => a - b).forEach((s, k) => (slot[s] = k));
  return (i) => {
    const s = Math.floor(i / size);
    const k = slot[s]!;
    return k < 0 ? -1 : k * size + (i - s * size);
  };
}
