import { TRANSACTIONAL_TOPICS } from "@handshake/consent";
import { describe, expect, it } from "vitest";
import { BUSINESS_TOPICS } from "../../scenarios/lib/business-topics.ts";

describe("business-broadcast topics", () => {
  it("are the consent package's transactional topics, so every topic the server accepts is exercised", () => {
    expect([...BUSINESS_TOPICS].sort()).toEqual([...TRANSACTIONAL_TOPICS].sort());
  });
});
