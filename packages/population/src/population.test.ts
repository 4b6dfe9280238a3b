import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  DEFAULT_SPEC,
  createSpec,
  parseShardList,
  shardOf,
  shardRange,
  userAt,
  userCoreAt,
  userCoresOfShard,
} from "./index";

const spec = createSpec();
const SAMPLE = 200_000;
/** 200k users spread over the whole id space (stride coprime with the shard size). */
const sample = Array.from({ length: SAMPLE }, (_, k) => userCoreAt(spec, (k * 4_999_963) % spec.size));

describe("shards", () => {
  it("splits N into S equal contiguous ranges that cover every id once", () => {
    expect(shardRange(spec, 0)).toEqual({ start: 0, end: 100_000 });
    expect(shardRange(spec, 9999)).toEqual({ start: 999_900_000, end: 1_000_000_000 });
    const small = createSpec({ size: 1200, shardCount: 12 });
    const counts = new Array(12).fill(0);
    for (let i = 0; i < 1200; i++) counts[shardOf(small, i)]++;
    expect(counts).toEqual(new Array(12).fill(100));
    expect([...userCoresOfShard(small, 5)].map((u) => u.id)).toEqual(Array.from({ length: 100 }, (_, k) => 500 + k));
  });

  it("rejects shard counts that do not divide N and out-of-range ids and shards", () => {
    expect(() => createSpec({ size: 1000, shardCount: 7 })).toThrow(/must divide/);
    expect(() => userAt(spec, spec.size)).toThrow(RangeError);
    expect(() => userAt(spec, -1)).toThrow(RangeError);
    expect(() => shardRange(spec, 10_000)).toThrow(RangeError);
  });

  it("parses shard lists", () => {
    expect(parseShardList("0-3, 7,2", 10)).toEqual([0, 1, 2, 3, 7]);
    expect(() => parseShardList("3-1", 10)).toThrow(/end before start/);
    expect(() => parseShardList("10", 10)).toThrow(/out of range/);
    expect(() => parseShardList("a", 10)).toThrow(/expected N or N-M/);
  });

  it("gives every shard the spec's country mix (no shard is one country)", () => {
    const totalWeight = DEFAULT_SPEC.countries.reduce((s, c) => s + c.weight, 0);
    for (const s of [0, 5000, 9999]) {
      const n = new Map<string, number>();
      for (const u of userCoresOfShard(spec, s)) n.set(u.country, (n.get(u.country) ?? 0) + 1);
      for (const c of DEFAULT_SPEC.countries) {
        const expected = (c.weight / totalWeight) * 100_000;
        expect(Math.abs((n.get(c.code) ?? 0) - expected)).toBeLessThan(5 * Math.sqrt(expected) + 5);
      }
    }
  });
});

describe("users", () => {
  it("match the country weights within tolerance on 200k users", () => {
    const totalWeight = DEFAULT_SPEC.countries.reduce((s, c) => s + c.weight, 0);
    const n = new Map<string, number>();
    for (const u of sample) n.set(u.country, (n.get(u.country) ?? 0) + 1);
    for (const c of DEFAULT_SPEC.countries) {
      expect(Math.abs((n.get(c.code) ?? 0) / SAMPLE - c.weight / totalWeight)).toBeLessThan(0.003);
    }
    expect(n.get("IN")! / SAMPLE).toBeCloseTo(0.16, 2);
  });

  it("match the OS mix (Android ~87%, iOS ~12%) and stay plausible for 2016", () => {
    const os = { android: 0, ios: 0, other: 0 };
    for (const u of sample) os[u.os]++;
    expect(os.android / SAMPLE).toBeCloseTo(0.876, 2);
    expect(os.ios / SAMPLE).toBeCloseTo(0.117, 2);
    expect(os.other / SAMPLE).toBeCloseTo(0.007, 2);
    for (const u of sample.slice(0, 5000)) {
      if (u.os === "ios") expect(u.deviceModel).toMatch(/^iPhone/);
      if (u.os === "android") expect(u.osVersion).toMatch(/^[2-6]\./);
      expect(u.appVersion).toMatch(/^2\.1[26]\./);
    }
  });

  it("mostly registered before the change, and only they get a consent choice", () => {
    const change = Date.parse("2016-08-25T00:00:00Z");
    let before = 0;
    for (const u of sample) {
      if (u.registeredAt < change) {
        before++;
        expect(u.consent).not.toBe("registered-after");
        if (u.consent === "opts-out-later") expect(u.optsOutAfterDays! - u.acceptsAfterDays!).toBeGreaterThan(0);
        if (u.consent === "unticks") expect(u.optsOutAfterDays).toBe(u.acceptsAfterDays);
        if (u.consent === "never-accepts") expect(u.acceptsAfterDays).toBeNull();
        if (u.acceptsAfterDays !== null) expect(u.acceptsAfterDays).toBeLessThan(30);
        if (u.optsOutAfterDays !== null) expect(u.optsOutAfterDays - u.acceptsAfterDays!).toBeLessThan(30);
      } else expect(u.consent).toBe("registered-after");
      expect(u.registeredAt).toBeGreaterThanOrEqual(Date.parse("2009-05-01T00:00:00Z"));
    }
    expect(before / SAMPLE).toBeCloseTo(0.95, 2);
  });

  it("opt out more in Germany than in India, as the spec says", () => {
    const refuse = (code: string) => {
      const us = sample.filter((u) => u.country === code && u.consent !== "registered-after");
      return us.filter((u) => u.consent === "unticks" || u.consent === "opts-out-later").length / us.length;
    };
    expect(refuse("DE")).toBeCloseTo(0.17, 1);
    expect(refuse("IN")).toBeCloseTo(0.05, 1);
  });

  it("send a heavy-tailed number of messages with a mean near 42 a day", () => {
    const m = sample.map((u) => u.messagesPerDay).sort((a, b) => a - b);
    const mean = m.reduce((s, x) => s + x, 0) / m.length;
    expect(mean).toBeGreaterThan(38);
    expect(mean).toBeLessThan(47);
    expect(m[Math.floor(0.999 * m.length)]!).toBeGreaterThan(10 * m[Math.floor(0.5 * m.length)]!);
  });

  it("have Facebook profiles at the spec's rates, linked by id", () => {
    const withProfile = sample.filter((u) => u.facebookProfileId !== null);
    expect(withProfile.length / SAMPLE).toBeCloseTo(0.7, 2);
    for (const u of withProfile.slice(0, 1000)) expect(u.facebookProfileId).toBe(u.id);
    const stale = withProfile.filter((u) => u.facebookPhone === "stale").length / withProfile.length;
    expect(stale).toBeCloseTo(0.65 * 0.15, 2);
  });

  it("have names from their locale, the same in userAt as a property of i", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: spec.size - 1 }), (i) => {
        const u = userAt(spec, i);
        expect(u.name).toMatch(/\S+ \S+/);
        expect(u.shard).toBe(Math.floor(i / 100_000));
        const { name: _name, ...core } = u;
        expect(core).toEqual(userCoreAt(spec, i));
      }),
      { numRuns: 300 },
    );
  });
});

