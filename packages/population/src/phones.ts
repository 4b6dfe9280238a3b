import { MOBILE_BLOCKS } from "./phone-blocks";
import { Permutation } from "./permutation";

/**
 * A country's mobile numbering plan as a bijection from [0, capacity) to E.164
 * numbers: index -> keyed permutation -> (block, offset) -> "+" cc prefix digits.
 * Distinct indices give distinct numbers by construction, so uniqueness across the
 * population only needs distinct (country, index) pairs.
 */
export class PhonePlan {
  readonly country: string;
  readonly capacity: number;
  private readonly plus: string;
  private readonly prefixes: string[];
  private readonly free: number[];
  private readonly starts: Float64Array;
  private readonly perm: Permutation;

  constructor(country: string, key: number) {
    const plan = MOBILE_BLOCKS[country];
    if (!plan) throw new RangeError(`no mobile numbering plan for country ${country}`);
    this.country = country;
    this.plus = `+${plan.callingCode}`;
    this.prefixes = plan.blocks.map(([p]) => p);
    this.free = plan.blocks.map(([, f]) => f);
    this.starts = new Float64Array(plan.blocks.length + 1);
    for (let k = 0; k < plan.blocks.length; k++) this.starts[k + 1] = this.starts[k]! + 10 ** this.free[k]!;
    this.capacity = this.starts[plan.blocks.length]!;
    this.perm = new Permutation(this.capacity, key);
  }

  /** The E.164 number with index k in [0, capacity); injective in k. */
  numberAt(k: number): string {
    const z = this.perm.forward(k);
    const starts = this.starts;
    let lo = 0;
    let hi = this.prefixes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= z) lo = mid;
      else hi = mid - 1;
    }
    return this.plus + this.prefixes[lo]! + String(z - starts[lo]!).padStart(this.free[lo]!, "0");
  }
}

/** Whether a numbering plan exists for the country (ISO 3166-1 alpha-2). */
export function hasPhonePlan(country: string): boolean {
  return country in MOBILE_BLOCKS;
}
