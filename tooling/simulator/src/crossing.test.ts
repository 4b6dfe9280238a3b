import { describe, expect, it } from "vitest";
import { APPROACH_MS, boundedAdvance, REGULATOR_DATES } from "./crossing";

const HAMBURG = Date.parse("2016-09-27T00:00:00Z");
const HOUR = 3_600_000;

describe("crossing a regulator's date", () => {
  it("knows the four dates of historical-2016", () => {
    expect(REGULATOR_DATES.map((d) => new Date(d).toISOString().slice(0, 10))).toEqual(["2016-08-25", "2016-09-27", "2016-11-07", "2016-11-16"]);
  });

  it("advances freely away from a date, stops short of one, and lets real time carry it across", () => {
    expect(boundedAdvance(HAMBURG - 10 * HOUR, 5 * HOUR)).toBe(5 * HOUR);
    expect(boundedAdvance(HAMBURG - 10 * HOUR, 20 * HOUR)).toBe(10 * HOUR - APPROACH_MS);
    expect(boundedAdvance(HAMBURG - APPROACH_MS, 20 * HOUR)).toBe(0);
    expect(boundedAdvance(HAMBURG - 500, 20 * HOUR)).toBe(0);
    // Whole milliseconds (the messenger takes integers), also from a fractional estimate of now.
    expect(boundedAdvance(HAMBURG - 10 * HOUR - 0.75, 20 * HOUR)).toBe(10 * HOUR - APPROACH_MS);
    // Once past it, the next date bounds.
    expect(boundedAdvance(HAMBURG + 1, 20 * HOUR)).toBe(20 * HOUR);
    expect(boundedAdvance(Date.parse("2016-11-20T00:00:00Z"), 30 * 24 * HOUR)).toBe(30 * 24 * HOUR);
  });
});
