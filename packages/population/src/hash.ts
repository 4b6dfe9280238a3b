/**
 * 32-bit integer hashing: every random choice in the population is a pure function
 * of (seed, index, field), so any user can be generated alone, in any process.
 * No BigInt: all arithmetic is on 32-bit halves with Math.imul.
 */

/**
 * Finalising mix of 32 bits ("lowbias32" by Chris Wellons, a murmur3-fmix32
 * variant with better measured avalanche; https://nullprogram.com/blog/2018/07/31/).
 */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

const TWO_32 = 4294967296;

/** Hash of a 32-bit key and an index in [0, 2^53): the per-entity key. */
export function keyOf(key: number, index: number): number {
  const lo = index >>> 0;
  const hi = (index / TWO_32) >>> 0;
  return mix32(mix32(key ^ lo) ^ Math.imul(hi + 0x632be5ab, 0x9e3779b1));
}

/** An independent 32-bit draw for `field` of the entity whose key is `key`. */
export function draw(key: number, field: number): number {
  return mix32(key ^ Math.imul(field + 1, 0x9e3779b1));
}

/** Uniform in [0, 1) from a 32-bit draw. */
export function unit(bits: number): number {
  return bits / TWO_32;
}

/** A 32-bit key for a named purpose under a seed (e.g. one permutation's key). */
export function keyFor(seed: number, purpose: string): number {
  let h = mix32((seed >>> 0) ^ 0x5bd1e995);
  h = mix32(h ^ Math.floor(seed / TWO_32));
  for (let k = 0; k < purpose.length; k++) h = mix32(h ^ purpose.charCodeAt(k));
  return h;
}
