import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { contactsOf, createSpec, degreeOf, userCoreAt } from "./index";

const spec = createSpec();
const small = createSpec({ size: 30_000, shardCount: 10, contacts: { ...spec.contacts, meanDegree: 20, maxDegree: 800 } });

describe("contacts", () => {
  it("are symmetric: j in contacts(i) iff i in contacts(j) (default population)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: spec.size - 1 }), (i) => {
        const cs = contactsOf(spec, i);
        for (const j of cs) expect(contactsOf(spec, j)).toContain(i);
        expect(cs).not.toContain(i);
        expect(new Set(cs).size).toBe(cs.length);
      }),
      { numRuns: 150 },
    );
  });

  it("form a symmetric graph on a whole small population (every edge seen from both ends)", () => {
    const edges = new Map<string, number>();
    for (let i = 0; i < small.size; i++) {
      for (const j of contactsOf(small, i)) {
        const key = i < j ? `${i}:${j}` : `${j}:${i}`;
        edges.set(key, (edges.get(key) ?? 0) + 1);
      }
    }
    for (const n of edges.values()) expect(n).toBe(2);
    expect(edges.size).toBeGreaterThan((small.size * 18) / 2);
  });

  it("have the configured mean degree and a heavy tail", () => {
    const n = 20_000;
    const deg = Array.from({ length: n }, (_, k) => contactsOf(spec, (k * 49_999_991) % spec.size).length).sort((a, b) => a - b);
    const mean = deg.reduce((s, d) => s + d, 0) / n;
    expect(mean).toBeGreaterThan(spec.contacts.meanDegree * 0.9);
    expect(mean).toBeLessThan(spec.contacts.meanDegree * 1.1);
    const median = deg[n / 2]!;
    expect(median).toBeLessThan(mean);
    expect(deg[Math.floor(n * 0.999)]!).toBeGreaterThan(20 * median);
    expect(deg[n - 1]!).toBeLessThanOrEqual(spec.contacts.maxDegree);
  });

  it("realise the nominal degree except for rare loops and repeats", () => {
    let nominal = 0;
    let real = 0;
    for (let k = 0; k < 2000; k++) {
      const i = k * 499_979;
      nominal += degreeOf(spec, i);
      real += contactsOf(spec, i).length;
    }
    expect(real / nominal).toBeGreaterThan(0.999);
  });

  it("stay mostly inside the user's country", () => {
    let same = 0;
    let all = 0;
    for (let k = 0; k < 300; k++) {
      const i = k * 3_333_331;
      const c = userCoreAt(spec, i).country;
      for (const j of contactsOf(spec, i)) {
        all++;
        if (userCoreAt(spec, j).country === c) same++;
      }
    }
    expect(same / all).toBeGreaterThan(0.88);
    expect(same / all).toBeLessThan(0.97);
  });
});
