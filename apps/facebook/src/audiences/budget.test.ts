import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { AudienceBudget, audienceBudgetCatalogue } from "./budget";
import { NOISE_FLOOR } from "./estimate";

describe("audience budget", () => {
  it("allows a day's uploads per advertiser, refuses the next with when to retry, refills over real time", () => {
    let nowMs = 0;
    const budget = new AudienceBudget(audienceBudgetCatalogue, () => nowMs);
    for (let i = 0; i < audienceBudgetCatalogue.audienceUpload.capacity; i++) budget.spend("audienceUpload", "a");
    let refused: unknown;
    try {
      budget.spend("audienceUpload", "a");
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(TRPCError);
    expect((refused as TRPCError).code).toBe("TOO_MANY_REQUESTS");
    expect((refused as TRPCError).message).toMatch(/budget "audienceUpload" exhausted \(200 .* per 24 h\); retry in 432 s/);
    // Another advertiser, and another limit, have their own buckets.
    expect(() => budget.spend("audienceUpload", "b")).not.toThrow();
    expect(() => budget.spend("audienceCreate", "a")).not.toThrow();
    nowMs += 432_000;
    expect(() => budget.spend("audienceUpload", "a")).not.toThrow();
    expect(() => budget.spend("audienceUpload", "a")).toThrow(TRPCError);
  });

  it("makes the averaging attack slow: the default budget buys too few estimates per day", () => {
    // Telling n from n+1 at a bucket edge by averaging needs ~2·z²·s² fresh estimates per
    // list (README, "Custom Audiences"); at the smallest noise s = ±50 and z = 2: 20,000.
    const perDay = audienceBudgetCatalogue.audienceUpload.refillPerSecond * 86_400;
    const estimatesNeeded = 2 * 2 ** 2 * NOISE_FLOOR ** 2;
    expect(estimatesNeeded / perDay).toBeGreaterThanOrEqual(50);
  });
});
