import { describe, expect, it } from "vitest";
import {
  applyChoice,
  blockBusiness,
  businessCategorySchema,
  deliveryRefusal,
  businessChoice,
  mayDeliver,
  newAccount,
  optInToMarketing,
  optOutOfMarketing,
  RECORDED_CHOICE_KINDS,
  recordedChoice,
  TRANSACTIONAL_TOPICS,
  unblockBusiness,
  type BusinessCategory,
  type ConsentState,
  type Result,
} from "./index";

const airline = { id: "biz-airline", kind: "business" as const };
const shop = { id: "biz-shop", kind: "business" as const };
const marketing: BusinessCategory = { kind: "marketing" };
const transactional: BusinessCategory[] = TRANSACTIONAL_TOPICS.map((topic) => ({ kind: "transactional", topic }));

function ok(result: Result<ConsentState>): ConsentState {
  if (!result.ok) throw new Error(result.refusal.message);
  return result.state;
}
const recipient = () => newAccount({ registeredAt: new Date("2015-01-01T00:00:00Z"), country: "GB" });

describe("business messaging choices", () => {
  it("delivers transactional and marketing messages by default", () => {
    for (const category of [...transactional, marketing]) expect(mayDeliver(recipient(), airline, category)).toBe(true);
  });

  it("after a marketing opt-out, refuses marketing but keeps every transactional topic", () => {
    const state = ok(optOutOfMarketing(recipient(), airline.id));
    expect(deliveryRefusal(state, airline, marketing)?.code).toBe("marketing-opted-out");
    for (const category of transactional) expect(mayDeliver(state, airline, category)).toBe(true);
    expect(mayDeliver(state, shop, marketing)).toBe(true);
  });

  it("a marketing opt-out can be undone: marketing arrives again, a block made meanwhile stays", () => {
    const out = ok(optOutOfMarketing(recipient(), airline.id));
    const back = ok(optInToMarketing(out, airline.id));
    expect(mayDeliver(back, airline, marketing)).toBe(true);
    expect(businessChoice(back, airline.id)).toEqual({ blocked: false, marketingOptOut: false });
    expect(ok(optInToMarketing(back, airline.id))).toBe(back);
    const blockedThenIn = ok(optInToMarketing(ok(blockBusiness(out, airline.id)), airline.id));
    expect(deliveryRefusal(blockedThenIn, airline, marketing)?.code).toBe("business-blocked");
    // Replayed from the recorded history, the same way.
    let state = recipient();
    for (const kind of ["marketing-opted-out", "marketing-opted-in", "marketing-opted-out", "marketing-opted-in"] as const) {
      state = ok(applyChoice(state, recordedChoice({ kind, policyVersion: "2012-07-07", shareWithFacebook: null, businessAccountId: airline.id }), new Date()));
    }
    expect(mayDeliver(state, airline, marketing)).toBe(true);
    expect(RECORDED_CHOICE_KINDS).toContain("marketing-opted-in");
  });

  it("knows the announced transactional topics, and refuses others", () => {
    for (const topic of ["reservation", "appointment", "order", "delivery", "flight-status", "bank-alert"]) {
      expect(businessCategorySchema.safeParse({ kind: "transactional", topic }).success).toBe(true);
    }
    expect(businessCategorySchema.safeParse({ kind: "transactional", topic: "newsletter" }).success).toBe(false);
    expect(businessCategorySchema.safeParse({ kind: "transactional" }).success).toBe(false);
  });

  it("a block refuses everything from that business only; unblock delivers again", () => {
    const blocked = ok(blockBusiness(recipient(), airline.id));
    for (const category of [...transactional, marketing]) {
      expect(deliveryRefusal(blocked, airline, category)?.code).toBe("business-blocked");
      expect(mayDeliver(blocked, shop, category)).toBe(true);
    }
    const unblocked = ok(unblockBusiness(blocked, airline.id));
    for (const category of [...transactional, marketing]) expect(mayDeliver(unblocked, airline, category)).toBe(true);
  });

  it("a marketing opt-out survives a block and an unblock", () => {
    let state = ok(optOutOfMarketing(recipient(), airline.id));
    state = ok(blockBusiness(state, airline.id));
    state = ok(unblockBusiness(state, airline.id));
    expect(mayDeliver(state, airline, marketing)).toBe(false);
    expect(mayDeliver(state, airline, { kind: "transactional", topic: "flight-status" })).toBe(true);
  });

  it("choices are idempotent and do not mutate the account", () => {
    const start = recipient();
    const blocked = ok(blockBusiness(start, airline.id));
    expect(ok(blockBusiness(blocked, airline.id))).toBe(blocked);
    expect(ok(unblockBusiness(start, airline.id))).toBe(start);
    expect(start.businesses).toEqual({});
  });

  it("refuses a categorised message from a personal account (forged category)", () => {
    const forged = { id: "person-1", kind: "personal" as const };
    expect(deliveryRefusal(recipient(), forged, { kind: "transactional", topic: "fraud-alert" })?.code).toBe("not-a-business");
    expect(mayDeliver(recipient(), forged, marketing)).toBe(false);
  });

  it("validates categories from envelope metadata", () => {
    expect(businessCategorySchema.parse({ kind: "transactional", topic: "delivery" })).toEqual({ kind: "transactional", topic: "delivery" });
    expect(businessCategorySchema.safeParse({ kind: "transactional", topic: "coupon" }).success).toBe(false);
    expect(businessCategorySchema.safeParse({ kind: "newsletter" }).success).toBe(false);
  });
});
