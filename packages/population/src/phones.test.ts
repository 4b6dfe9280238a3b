import { describe, expect, it } from "vitest";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { createSpec, facebookProfileAt, userCoreAt } from "./index";
import { MOBILE_BLOCKS } from "./phone-blocks";
import { PhonePlan } from "./phones";

const spec = createSpec();

function mobileOf(phone: string, country: string): boolean {
  const p = parsePhoneNumberFromString(phone);
  if (!p || !p.isValid() || p.country !== country || p.number !== phone) return false;
  const t = p.getType();
  return t === "MOBILE" || t === "FIXED_LINE_OR_MOBILE";
}

describe("phone numbers", () => {
  it("are valid E.164 mobile numbers of the user's country and unique across 200k users", () => {
    const seen = new Set<string>();
    const bad: string[] = [];
    for (let k = 0; k < 200_000; k++) {
      const u = userCoreAt(spec, (k * 4_999_963 + 17) % spec.size);
      if (!mobileOf(u.phone, u.country)) bad.push(`${u.country} ${u.phone}`);
      seen.add(u.phone);
    }
    expect(bad.slice(0, 10)).toEqual([]);
    expect(seen.size).toBe(200_000);
  });

  it("are unique inside contiguous shards too (neighbouring ids, all countries)", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(userCoreAt(spec, 700_000_000 + i).phone);
    expect(seen.size).toBe(100_000);
  });

  it("cover every block edge of every plan with valid numbers", () => {
    for (const [country, plan] of Object.entries(MOBILE_BLOCKS)) {
      for (const [prefix, free] of plan.blocks) {
        for (const tail of ["0".repeat(free), "9".repeat(free), "5".repeat(free)]) {
          expect(mobileOf(`+${plan.callingCode}${prefix}${tail}`, country), `${country} ${prefix}${tail}`).toBe(true);
        }
      }
    }
  });

  it("are a bijection of the plan's index space (small plan, exhaustive over a window)", () => {
    const plan = new PhonePlan("NL", 1);
    const seen = new Set<string>();
    for (let k = 0; k < 50_000; k++) seen.add(plan.numberAt(k));
    expect(seen.size).toBe(50_000);
  });

  it("held by Facebook (stale or Facebook-only) never equal a WhatsApp user's current number of the sample", () => {
    const current = new Set<string>();
    for (let i = 0; i < 50_000; i++) current.add(userCoreAt(spec, i).phone);
    let checked = 0;
    for (let i = 0; i < 50_000; i++) {
      const p = facebookProfileAt(spec, i);
      if (p?.phoneState === "stale") {
        expect(current.has(p.phone!)).toBe(false);
        expect(mobileOf(p.phone!, p.country)).toBe(true);
        checked++;
      }
      const q = facebookProfileAt(spec, spec.size + i)!;
      if (q.phone) {
        expect(current.has(q.phone)).toBe(false);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30_000);
  });
});
