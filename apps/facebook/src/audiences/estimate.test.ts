import { createHash, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bucketOf, estimateAudienceSize, listDigest, NOISE_FLOOR, NOISE_FRACTION, noisyCount, SIZE_BUCKET_EDGES } from "./estimate";

const key = Buffer.alloc(32, 7);
const digestOf = (i: number) => createHash("sha256").update(`list-${i}`).digest();

describe("audience size estimates", () => {
  it("buckets follow 1-2-5 edges and label them like Facebook's ranges", () => {
    expect(SIZE_BUCKET_EDGES.slice(0, 7)).toEqual([100, 200, 500, 1_000, 2_000, 5_000, 10_000]);
    expect(bucketOf(1_234, 100)).toEqual({ tooSmall: false, lower: 1_000, upper: 2_000, label: "1,000–2,000" });
    expect(bucketOf(99, 100)).toEqual({ tooSmall: true });
    expect(bucketOf(2e9, 100)).toMatchObject({ lower: 1e9, upper: null, label: "1,000,000,000+" });
    expect(bucketOf(42, 10)).toMatchObject({ lower: 10, upper: 100 });
  });

  it("the list digest ignores order and duplicates", () => {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    expect(listDigest([a, b, a])).toEqual(listDigest([b, a]));
    expect(listDigest([a])).not.toEqual(listDigest([a, b]));
  });

  it("property: the same list always gets the same answer; noise stays within ±max(50, 10%)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5_000_000 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (count, bytes) => {
        const digest = Buffer.from(bytes);
        expect(estimateAudienceSize(count, digest, key, 100)).toEqual(estimateAudienceSize(count, digest, key, 100));
        const noisy = noisyCount(count, key, digest);
        expect(Math.abs(noisy - count)).toBeLessThanOrEqual(Math.max(NOISE_FLOOR, NOISE_FRACTION * count));
      }),
    );
  });

  it("property: nothing is ever shown for fewer than the minimum, nor for exactly the minimum", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (count, bytes) => {
        expect(estimateAudienceSize(count, Buffer.from(bytes), key, 100)).toEqual({ tooSmall: true });
      }),
    );
  });

  it("property: a shown range is within the noise of the true count", () => {
    fc.assert(
      fc.property(fc.integer({ min: 101, max: 50_000_000 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (count, bytes) => {
        const estimate = estimateAudienceSize(count, Buffer.from(bytes), key, 100);
        if (estimate.tooSmall) return;
        const slack = Math.max(NOISE_FLOOR, NOISE_FRACTION * count);
        expect(estimate.lower).toBeLessThanOrEqual(count + slack);
        expect(estimate.upper === null || estimate.upper > count - slack).toBe(true);
      }),
    );
  });

  // One list per trial, as an attacker gets by varying its list: how differently
  // are n and n+1 members reported? Worst places: the "too small" cut-off and a bucket edge.
  it.each([
    [100, "the minimum"],
    [150, "inside the cut-off ramp"],
    [999, "just under the 1,000 edge"],
    [4_999, "just under the 5,000 edge"],
  ])("one more member (at %i, %s) barely moves the answer's distribution", (n, _where) => {
    const trials = 5_000;
    let differ = 0;
    for (let i = 0; i < trials; i++) {
      const a = estimateAudienceSize(n, digestOf(i), key, 100);
      const b = estimateAudienceSize(n + 1, digestOf(i + trials), key, 100);
      if (JSON.stringify(a) !== JSON.stringify(b)) differ++;
    }
    // Independent noise for the two lists: how often the answers differ must not
    // depend on membership. Compare with two lists of the same size n.
    let differSame = 0;
    for (let i = 0; i < trials; i++) {
      const a = estimateAudienceSize(n, digestOf(i), key, 100);
      const b = estimateAudienceSize(n, digestOf(i + trials), key, 100);
      if (JSON.stringify(a) !== JSON.stringify(b)) differSame++;
    }
    // Binomial noise on each rate <= sqrt(0.25/5000) = 0.0071; allow 4.5 sigma of the difference
    // (without noise, at an edge the two rates differ by 1).
    expect(Math.abs(differ - differSame) / trials).toBeLessThan(0.0071 * Math.SQRT2 * 4.5);
  });

  it("control: noise keyed by the matched set would be an oracle", () => {
    // A non-member target leaves the matched set (so the noise) unchanged: equal
    // answers would mean "not a member" every time; a member changes the set.
    const n = 999;
    let membersSeenAsChanged = 0;
    let nonMembersSeenAsChanged = 0;
    for (let i = 0; i < 1_000; i++) {
      const base = estimateAudienceSize(n, digestOf(i), key, 100);
      const withMember = estimateAudienceSize(n + 1, digestOf(i + 1_000_000), key, 100);
      const withNonMember = estimateAudienceSize(n, digestOf(i), key, 100);
      if (JSON.stringify(base) !== JSON.stringify(withMember)) membersSeenAsChanged++;
      if (JSON.stringify(base) !== JSON.stringify(withNonMember)) nonMembersSeenAsChanged++;
    }
    expect(nonMembersSeenAsChanged).toBe(0);
    expect(membersSeenAsChanged).toBeGreaterThan(100);
  });
});
