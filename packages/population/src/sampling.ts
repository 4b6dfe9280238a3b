import { type Weighted } from "./spec";

const TWO_32 = 4294967296;

/** Picks a value from a weighted list with one 32-bit draw (cumulative thresholds). */
export class Picker<T> {
  readonly values: readonly T[];
  /** Normalised weights, summing to 1. */
  readonly shares: readonly number[];
  private readonly thresholds: Float64Array;

  constructor(entries: ReadonlyArray<Weighted<T>>) {
    if (entries.length === 0) throw new RangeError("weighted list is empty");
    const total = entries.reduce((s, [, w]) => s + w, 0);
    if (!(total > 0) || entries.some(([, w]) => !(w >= 0))) throw new RangeError("weights must be >= 0 with a positive sum");
    this.values = entries.map(([v]) => v);
    this.shares = entries.map(([, w]) => w / total);
    this.thresholds = new Float64Array(entries.length);
    let acc = 0;
    for (let k = 0; k < entries.length; k++) {
      acc += entries[k]![1];
      this.thresholds[k] = k === entries.length - 1 ? TWO_32 : (acc / total) * TWO_32;
    }
  }

  /** The index picked by 32 random bits. */
  index(bits: number): number {
    const t = this.thresholds;
    let k = 0;
    while (bits >= t[k]!) k++;
    return k;
  }

  /** The value picked by 32 random bits. */
  pick(bits: number): T {
    return this.values[this.index(bits)]!;
  }
}

/**
 * Splits `total` into integer parts proportional to `weights` (largest remainder,
 * ties to the earlier entry): the parts sum to `total` exactly.
 */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((s, w) => s + w, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const parts = exact.map(Math.floor);
  let left = total - parts.reduce((s, p) => s + p, 0);
  const order = exact.map((e, k) => [e - Math.floor(e), k] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let r = 0; left > 0; r++, left--) parts[order[r % order.length]![1]]! += 1;
  return parts;
}
