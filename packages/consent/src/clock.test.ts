import { describe, expect, it } from "vitest";
import { fixedClock } from "./index";

describe("fixedClock", () => {
  it("always answers the given instant, and callers cannot move it by mutating the answer", () => {
    const source = new Date("2016-08-25T12:00:00Z");
    const clock = fixedClock(source);
    clock.now().setTime(0);
    source.setTime(0);
    expect(clock.now().toISOString()).toBe("2016-08-25T12:00:00.000Z");
  });
});
