import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Permutation } from "./permutation";

describe("Permutation", () => {
  it("is a bijection of [0, size) for every size, with inverse undoing forward", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (size, key) => {
        const p = new Permutation(size, key);
        const seen = new Uint8Array(size);
        for (let x = 0; x < size; x++) {
          const y = p.forward(x);
          expect(y >= 0 && y < size && seen[y] === 0).toBe(true);
          seen[y] = 1;
          expect(p.inverse(y)).toBe(x);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("inverts on huge domains (stub spaces beyond 2^32)", () => {
    const size = 4e13 + 3;
    const p = new Permutation(size, 99);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: size - 1 }), (x) => {
        const y = p.forward(x);
        expect(y).toBeLessThan(size);
        expect(p.inverse(y)).toBe(x);
      }),
    );
  });
});
