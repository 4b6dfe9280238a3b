import { describe, expect, it } from "vitest";
import { parseSpeed } from "./speed";

describe("simulation speed", () => {
  it("reads the dashboard's three speeds and others", () => {
    expect(parseSpeed("pause").simMsPerSecond).toBe(0);
    expect(parseSpeed("1d/min").simMsPerSecond).toBe(86_400_000 / 60);
    expect(parseSpeed("1d/s").simMsPerSecond).toBe(86_400_000);
    expect(parseSpeed("6h/s").simMsPerSecond).toBe(6 * 3_600_000);
    expect(parseSpeed("realtime").simMsPerSecond).toBe(1_000);
  });
  it("refuses what it cannot honour, saying what it accepts", () => {
    for (const bad of ["fast", "1d", "0d/s", "-1d/s", "1w/s", "31d/s", "1s/min"]) {
      expect(() => parseSpeed(bad), bad).toThrow(RangeError);
    }
    expect(() => parseSpeed("fast")).toThrow(/expected pause, realtime/);
  });
});
