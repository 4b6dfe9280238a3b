import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fingerprint } from "../test/fingerprint";
import { contactsOf, createSpec, userAt, usersOfShard, shardRange } from "./index";

const spec = createSpec();

describe("determinism", () => {
  it("a fresh process generates the same users, contacts and profiles", () => {
    const script = fileURLToPath(new URL("../test/fingerprint.ts", import.meta.url));
    const child = execFileSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8" });
    expect(child).toMatch(/^[0-9a-f]{64}$/);
    expect(child).toBe(fingerprint());
  });

  it("a user is identical generated alone or in a shard sweep, in any order", () => {
    const s = 4321;
    const { start } = shardRange(spec, s);
    const sweep = [...usersOfShard(spec, s)];
    expect(sweep).toHaveLength(spec.size / spec.shardCount);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: sweep.length - 1 }), (k) => {
        expect(userAt(spec, start + k)).toEqual(sweep[k]);
      }),
      { numRuns: 200 },
    );
  });

  it("equal specs built separately give equal users; a different seed gives different ones", () => {
    const again = createSpec();
    const other = createSpec({ seed: 7 });
    let differ = 0;
    for (let i = 0; i < 1000; i++) {
      expect(userAt(again, i * 1_000_003)).toEqual(userAt(spec, i * 1_000_003));
      if (userAt(other, i).phone !== userAt(spec, i).phone) differ++;
    }
    expect(differ).toBeGreaterThan(990);
    expect(contactsOf(again, 42)).toEqual(contactsOf(spec, 42));
  });
});
