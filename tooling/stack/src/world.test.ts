import { describe, expect, it } from "vitest";
import { parseDevArgs } from "./world";

describe("pnpm dev's flags", () => {
  it("seed and simulate by default, at 1 day per minute", () => {
    expect(parseDevArgs([])).toEqual({ seed: true, simulate: true, speed: "1d/min" });
  });
  it("--empty skips seeding, --still the simulator, --speed sets the speed", () => {
    expect(parseDevArgs(["--empty"])).toEqual({ seed: false, simulate: true, speed: "1d/min" });
    expect(parseDevArgs(["--still"])).toEqual({ seed: true, simulate: false, speed: "1d/min" });
    expect(parseDevArgs(["--speed", "1d/s", "--empty", "--still"])).toEqual({ seed: false, simulate: false, speed: "1d/s" });
  });
  it("refuses anything else with the usage", () => {
    expect(() => parseDevArgs(["--emtpy"])).toThrow(/usage: pnpm dev/);
    expect(() => parseDevArgs(["now"])).toThrow(/usage: pnpm dev/);
  });
});
