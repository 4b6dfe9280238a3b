import { mix32 } from "./hash";

const ROUNDS = 4;

/**
 * A keyed bijection of [0, size) with O(1) expected forward and inverse: a 4-round
 * unbalanced Feistel network over the smallest power of two >= size, with cycle
 * walking (re-encrypt until the value falls inside [0, size); expected walks
 * 2^bits / size < 2). Works for sizes up to 2^52 with plain float arithmetic.
 */
export class Permutation {
  readonly size: number;
  private readonly pa: number;
  private readonly pb: number;
  private readonly keys: Uint32Array;

  constructor(size: number, key: number) {
    if (!Number.isSafeInteger(size) || size < 1 || size > 2 ** 52) {
      throw new RangeError(`permutation size must be an integer in [1, 2^52], got ${size}`);
    }
    this.size = size;
    const bits = Math.max(2, Math.ceil(Math.log2(size)));
    const wa = Math.ceil(bits / 2);
    this.pa = 2 ** wa;
    this.pb = 2 ** (bits - wa);
    this.keys = new Uint32Array(ROUNDS);
    for (let r = 0; r < ROUNDS; r++) this.keys[r] = mix32(key + Math.imul(r + 1, 0x9e3779b1));
  }

  /** The image of x in [0, size). */
  forward(x: number): number {
    do x = this.encrypt(x);
    while (x >= this.size);
    return x;
  }

  /** The preimage of y in [0, size): inverse(forward(x)) === x. */
  inverse(y: number): number {
    do y = this.decrypt(y);
    while (y >= this.size);
    return y;
  }

  // Four rounds unrolled. State (a: wa bits, b: wb bits); each round
  // (a, b) -> (b, a ^ F(b)) swaps the widths, so after four they are back.
  private encrypt(x: number): number {
    const k = this.keys;
    const ma = this.pa - 1;
    const mb = this.pb - 1;
    const a0 = Math.floor(x / this.pb);
    const b0 = x - a0 * this.pb;
    const b1 = ((a0 ^ mix32(b0 ^ k[0]!)) & ma) >>> 0; // (b0: wb, b1: wa)
    const b2 = ((b0 ^ mix32(b1 ^ k[1]!)) & mb) >>> 0; // (b1: wa, b2: wb)
    const b3 = ((b1 ^ mix32(b2 ^ k[2]!)) & ma) >>> 0; // (b2: wb, b3: wa)
    const b4 = ((b2 ^ mix32(b3 ^ k[3]!)) & mb) >>> 0; // (b3: wa, b4: wb)
    return b3 * this.pb + b4;
  }

  private decrypt(y: number): number {
    const k = this.keys;
    const ma = this.pa - 1;
    const mb = this.pb - 1;
    const b3 = Math.floor(y / this.pb);
    const b4 = y - b3 * this.pb;
    const b2 = ((b4 ^ mix32(b3 ^ k[3]!)) & mb) >>> 0;
    const b1 = ((b3 ^ mix32(b2 ^ k[2]!)) & ma) >>> 0;
    const b0 = ((b2 ^ mix32(b1 ^ k[1]!)) & mb) >>> 0;
    const a0 = ((b1 ^ mix32(b0 ^ k[0]!)) & ma) >>> 0;
    return a0 * this.pb + b0;
  }
}
