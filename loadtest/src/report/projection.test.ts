import { describe, expect, it } from "vitest";
import { plan } from "../model/workload";
import { project } from "./projection";

const base = { shards: 4, shardCount: 10_000, level: "average" as const, thresholdsPassed: true };
const rate = plan(base).average.messagesPerSecond;

describe("projection to N = 1e9", () => {
  it("a node that sustained k shards at the average rate: S / k nodes on average", () => {
    const p = project({ ...base, plannedMessagesPerSecond: rate, achievedMessagesPerSecond: rate });
    expect(p.sustainedShards).toBe(4);
    expect(p.nodes.average).toBe(2500);
  });

  it("peak needs more nodes by the larger of the message and connection factors", () => {
    const p = project({ ...base, plannedMessagesPerSecond: rate, achievedMessagesPerSecond: rate });
    const sample = plan(base);
    const factor = Math.max(sample.peak.messagesPerSecond / sample.average.messagesPerSecond, sample.peak.connectedShare / sample.average.connectedShare);
    expect(factor).toBeCloseTo(1.5, 6); // 63B / 42B; connections grow less (capped at the published peak share)
    expect(p.nodes.peak).toBe(Math.ceil(2500 * factor));
  });

  it("a run at the peak projects the average with fewer nodes", () => {
    const peakRate = plan(base).peak.messagesPerSecond;
    const p = project({ ...base, level: "peak", plannedMessagesPerSecond: peakRate, achievedMessagesPerSecond: peakRate });
    expect(p.nodes.peak).toBe(2500);
    expect(p.nodes.average).toBeLessThan(2500);
  });

  it("a generator that fell short scales the sustained shards down", () => {
    const p = project({ ...base, plannedMessagesPerSecond: rate, achievedMessagesPerSecond: rate / 2 });
    expect(p.sustainedShards).toBeCloseTo(2, 9);
    expect(p.nodes.average).toBe(5000);
    expect(p.explanation).toMatch(/50\.0% of the planned rate/);
  });

  it("failed thresholds sustain nothing and project no node count", () => {
    const p = project({ ...base, thresholdsPassed: false, plannedMessagesPerSecond: rate, achievedMessagesPerSecond: rate });
    expect(p.sustainedShards).toBe(0);
    expect(p.nodes).toEqual({ average: null, peak: null });
    expect(p.explanation).toMatch(/fewer --shards/);
  });

  it("a smaller population's shards are scaled up to the target", () => {
    const small = { ...base, population: 100_000_000 };
    const r = plan(small).average.messagesPerSecond;
    const p = project({ ...small, plannedMessagesPerSecond: r, achievedMessagesPerSecond: r });
    expect(p.nodes.average).toBe(25_000);
  });
});
