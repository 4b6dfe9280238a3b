import { describe, expect, it } from "vitest";
import { createSpec, facebookIdSpace, facebookOnlyCount, facebookProfileAt, facebookProfilesOfShard, userAt } from "./index";

const spec = createSpec();
const small = createSpec({ size: 20_000, shardCount: 20 });

describe("Facebook profiles", () => {
  it("link to WhatsApp users both ways and share their name and country", () => {
    for (let i = 0; i < 2000; i++) {
      const u = userAt(spec, (i * 1_000_037) % spec.size);
      const p = facebookProfileAt(spec, u.id);
      if (u.facebookProfileId === null) expect(p).toBeNull();
      else {
        expect(p).toMatchObject({ id: u.id, whatsappUserId: u.id, name: u.name, country: u.country, phoneState: u.facebookPhone });
        if (u.facebookPhone === "current") expect(p!.phone).toBe(u.phone);
        if (u.facebookPhone === "stale") expect(p!.phone).not.toBe(u.phone);
        if (u.facebookPhone === "none") expect(p!.phone).toBeNull();
      }
    }
  });

  it("include ~1.01 people per WhatsApp user who are not on WhatsApp", () => {
    expect(facebookOnlyCount(spec)).toBe(1_010_000_000);
    expect(facebookIdSpace(spec)).toBe(2_010_000_000);
    const p = facebookProfileAt(spec, facebookIdSpace(spec) - 1)!;
    expect(p.whatsappUserId).toBeNull();
    expect(p.shard).toBe(9999);
    expect(() => facebookProfileAt(spec, facebookIdSpace(spec))).toThrow(RangeError);
  });

  it("are enumerated per shard: every profile exactly once, in its shard", () => {
    const ids = new Set<number>();
    for (let s = 0; s < small.shardCount; s++) {
      for (const p of facebookProfilesOfShard(small, s)) {
        expect(p.shard).toBe(s);
        expect(ids.has(p.id)).toBe(false);
        ids.add(p.id);
      }
    }
    let expected = facebookOnlyCount(small);
    for (let i = 0; i < small.size; i++) if (facebookProfileAt(small, i)) expected++;
    expect(ids.size).toBe(expected);
    const phones = new Set<string>();
    let withPhone = 0;
    for (let j = 0; j < facebookIdSpace(small); j++) {
      const p = facebookProfileAt(small, j);
      if (p?.phone) {
        withPhone++;
        phones.add(p.phone);
      }
    }
    expect(phones.size).toBe(withPhone);
  });
});
