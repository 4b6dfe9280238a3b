import { describe, expect, it } from "vitest";
import { AVERAGE_MESSAGES_PER_SECOND, CONNECTED_SHARE_AT_PEAK, MONTHLY_USERS, PEAK_MESSAGES_PER_SECOND } from "../model/figures";
import { connectedShareAt, deviceRates, plan } from "../model/workload";
import { nodesNeeded, populationDemand, project } from "./projection";

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

describe("nodes from a node's two limits (connections, messages/s)", () => {
  const average = populationDemand("average");
  const nye = populationDemand("peak");
  const rates = deviceRates("average");

  it("the population's demand is the model's: 42B/day and 63B on NYE, over the connected share", () => {
    expect(average.messagesPerSecond).toBeCloseTo(AVERAGE_MESSAGES_PER_SECOND, 6);
    expect(nye.messagesPerSecond).toBeCloseTo(PEAK_MESSAGES_PER_SECOND, 6);
    expect(average.connections).toBeCloseTo(MONTHLY_USERS.value * connectedShareAt(AVERAGE_MESSAGES_PER_SECOND), 0);
    expect(nye.connections).toBeCloseTo(MONTHLY_USERS.value * CONNECTED_SHARE_AT_PEAK.value, 0);
    // A connected device sends ~0.002 msg/s on an average day (DESIGN.md).
    expect(rates.sendsPerSecond).toBeGreaterThan(0.0015);
    expect(rates.sendsPerSecond).toBeLessThan(0.0025);
  });

  it("a node held at the model's per-device rate is bound by connections on the average day", () => {
    const held = 60_000;
    const limits = { connections: held, messagesPerSecond: held * rates.sendsPerSecond };
    const n = nodesNeeded(average, limits);
    expect(n.byConnections).toBeCloseTo(n.byMessages, 6); // held at exactly the average ratio
    expect(n.nodes).toBe(Math.ceil(average.connections / held - 1e-9));
  });

  it("on NYE the message limit decides when it was only measured at the average ratio", () => {
    const held = 60_000;
    const limits = { connections: held, messagesPerSecond: held * rates.sendsPerSecond };
    const n = nodesNeeded(nye, limits);
    // NYE carries 1.5× the messages but its connected share grows less (capped at the published peak).
    expect(n.boundBy).toBe("messages");
    expect(n.nodes).toBe(Math.ceil(nye.messagesPerSecond / limits.messagesPerSecond));
    expect(n.nodes).toBeGreaterThan(Math.ceil(nye.connections / held));
  });

  it("a message limit measured separately (a burst bench) leaves the connections to decide", () => {
    const limits = { connections: 60_000, messagesPerSecond: 2_000 };
    const n = nodesNeeded(nye, limits);
    expect(n.boundBy).toBe("connections");
    expect(n.nodes).toBe(Math.ceil(nye.connections / 60_000));
  });

  it("the k6 report's projection is the same rule, with the run's connections and messages/s as limits", () => {
    const sample = plan(base);
    const p = project({ ...base, plannedMessagesPerSecond: rate, achievedMessagesPerSecond: rate });
    const limits = { connections: sample.usersInSample * sample.average.connectedShare, messagesPerSecond: sample.average.messagesPerSecond };
    expect(p.nodes.average).toBe(nodesNeeded(average, limits).nodes);
    expect(p.nodes.peak).toBe(nodesNeeded(nye, limits).nodes);
  });

  it("refuses limits that are not positive", () => {
    expect(() => nodesNeeded(average, { connections: 0, messagesPerSecond: 1 })).toThrow(RangeError);
    expect(() => nodesNeeded(average, { connections: 1, messagesPerSecond: Number.NaN })).toThrow(RangeError);
  });
});
