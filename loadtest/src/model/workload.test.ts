import { describe, expect, it } from "vitest";
import {
  AVERAGE_MESSAGES_PER_SECOND,
  CONNECTED_SHARE_AT_PEAK,
  MESSAGE_SIZE_MIX,
  MESSAGES_PER_DAY,
  LISTS_PER_SECOND,
  PEAK_MESSAGES_PER_SECOND,
  diurnalFactor,
} from "./figures";
import * as figures from "./figures";
import { connectedShareAt, plan } from "./workload";
import { formatPlan } from "../plan-output";

describe("global figures", () => {
  it("42B messages/day is ~486k/s and 63B on NYE 2016 is ~729k/s", () => {
    expect(Math.round(AVERAGE_MESSAGES_PER_SECOND)).toBe(486_111);
    expect(Math.round(PEAK_MESSAGES_PER_SECOND)).toBe(729_167);
    expect(MESSAGES_PER_DAY.value).toBe(42e9);
  });

  it("every cited figure names its source or says it is an assumption", () => {
    const cited = (Object.values(figures) as unknown[]).filter(
      (v): v is { value: unknown; source: string } => typeof v === "object" && v !== null && "source" in v,
    );
    expect(cited.length).toBeGreaterThanOrEqual(6);
    for (const figure of cited) expect(figure.source).toMatch(/\d{4}|assumption/);
    for (const size of MESSAGE_SIZE_MIX) expect(size.source).toMatch(/\d{4}|assumption/);
  });

  it("the size mix weights sum to 1 and the diurnal shape averages 1 with the stated peak", () => {
    expect(MESSAGE_SIZE_MIX.reduce((s, c) => s + c.weight, 0)).toBeCloseTo(1, 10);
    const hours = Array.from({ length: 24 }, (_, h) => diurnalFactor(h));
    expect(hours.reduce((a, b) => a + b, 0) / 24).toBeCloseTo(1, 10);
    expect(Math.max(...hours)).toBeCloseTo(figures.DIURNAL_PEAK_TO_MEAN.value, 10);
  });
});

describe("plan", () => {
  it("divides the global rate by S and drives k shards", () => {
    const p = plan({ shards: 4, shardCount: 10_000 });
    expect(p.usersInSample).toBe(400_000);
    expect(p.average.messagesPerSecond).toBeCloseTo((42e9 / 86_400 / 10_000) * 4, 6);
    expect(p.peak.messagesPerSecond).toBeCloseTo((63e9 / 86_400 / 10_000) * 4, 6);
    expect(p.contactsInSample).toBeCloseTo(4 / 10_000, 6);
  });

  it("connects the published peak share at the busiest hour and splits sends between connected and outside recipients", () => {
    const p = plan({ shards: 2, shardCount: 1000 });
    expect(p.peakHour.connectedShare).toBeCloseTo(CONNECTED_SHARE_AT_PEAK.value, 10);
    expect(p.peak.connectedShare).toBeCloseTo(CONNECTED_SHARE_AT_PEAK.value, 10);
    expect(p.average.connectedShare).toBeLessThan(p.peakHour.connectedShare);
    for (const load of [p.average, p.peakHour, p.peak]) {
      expect(load.deliveredPerSecond + load.outsideSendsPerSecond).toBeCloseTo(load.messagesPerSecond, 9);
      expect(load.connected).toBe(Math.round(p.usersInSample * load.connectedShare));
    }
    expect(connectedShareAt(0)).toBe(0);
  });

  it("refuses samples that do not fit the layout", () => {
    expect(() => plan({ shards: 0, shardCount: 10 })).toThrow(/--shards/);
    expect(() => plan({ shards: 11, shardCount: 10 })).toThrow(/--shards/);
    expect(() => plan({ shards: 1, shardCount: 7 })).toThrow(/evenly/);
  });

  it("prints users, connected, messages/s and outside sends for average and peak", () => {
    const text = formatPlan("steady", plan({ shards: 4, shardCount: 10_000 }), false);
    expect(text).toMatch(/users in sample: 400,000/);
    expect(text).toMatch(/concurrently connected/);
    expect(text).toMatch(/to contacts outside the sample/);
    expect(text).toMatch(/average day.*peak hour.*NYE 2016 peak/);
  });
});

describe("custom audience load", () => {
  it("gives the sample its share of the world's lists, drives at least one a minute, in calls of 10,000 rows", () => {
    const p = plan({ shards: 4, shardCount: 10_000 });
    expect(p.audiences.modelListsPerMinute).toBeCloseTo(LISTS_PER_SECOND * 60 * 4e-4, 6);
    expect(p.audiences.listsPerMinute).toBe(1);
    expect(p.audiences.callsPerList).toBe(3);
    expect(plan({ shards: 100, shardCount: 100 }).audiences.listsPerMinute).toBe(Math.round(LISTS_PER_SECOND * 60));
    expect(formatPlan("custom-audience", p, false)).toContain("30,000 rows each in 3 calls");
  });
});

