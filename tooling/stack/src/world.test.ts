import { describe, expect, it } from "vitest";
import { parseDevArgs } from "./world";

describe("pnpm dev's flags", () => {
  it("seed and simulate by default, at 1 day per minute", () => {
    expect(parseDevArgs([])).toEqual({ seed: true, simulate: true, speed: "1d/min", nodes: 1, shardDatabases: 1 });
  });
  it("--empty skips seeding, --still the simulator, --speed sets the speed", () => {
    expect(parseDevArgs(["--empty"])).toEqual({ seed: false, simulate: true, speed: "1d/min", nodes: 1, shardDatabases: 1 });
    expect(parseDevArgs(["--still"])).toEqual({ seed: true, simulate: false, speed: "1d/min", nodes: 1, shardDatabases: 1 });
    expect(parseDevArgs(["--speed", "1d/s", "--empty", "--still"])).toEqual({ seed: false, simulate: false, speed: "1d/s", nodes: 1, shardDatabases: 1 });
  });
  it("refuses anything else with the usage", () => {
    expect(() => parseDevArgs(["--emtpy"])).toThrow(/usage: pnpm dev/);
    expect(() => parseDevArgs(["now"])).toThrow(/usage: pnpm dev/);
    expect(() => parseDevArgs(["--nodes", "0"])).toThrow(/--nodes must be a whole number/);
    expect(() => parseDevArgs(["--nodes", "two"])).toThrow(/--nodes must be a whole number/);
  });
  it("--nodes N runs N messenger nodes", () => {
    expect(parseDevArgs(["--nodes", "3", "--still"])).toEqual({ seed: true, simulate: false, speed: "1d/min", nodes: 3, shardDatabases: 1 });
  });
  it("--shard-databases N gives the messenger N PostgreSQL servers; 0 or words are refused", () => {
    expect(parseDevArgs(["--shard-databases", "2"])).toMatchObject({ shardDatabases: 2, nodes: 1 });
    expect(() => parseDevArgs(["--shard-databases", "0"])).toThrow(/--shard-databases must be a whole number from 1 to 8/);
    expect(() => parseDevArgs(["--shard-databases", "two"])).toThrow(/--shard-databases must be a whole number/);
  });
});
