import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { k6Args } from "./k6";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("running k6", () => {
  it("without k6, `loadtest run` says how to install it and exits 3 before starting anything", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "run", "steady", "--shards", "1"], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, K6: path.join(root, "no-such-k6-binary") },
      timeout: 60_000,
    });
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/k6 is not installed/);
    expect(run.stderr).toMatch(/brew install k6/);
    expect(run.stdout).not.toMatch(/seed|stack/i);
  });

  it("always turns k6's usage report off: nothing may leave the machine", () => {
    const args = k6Args("scenarios/steady.ts", "/tmp/out", { TARGET: "http://127.0.0.1:4100" });
    expect(args).toContain("--no-usage-report");
    expect(args.at(-1)).toBe("scenarios/steady.ts");
    expect(args.join(" ")).toContain("-e TARGET=http://127.0.0.1:4100");
  });
});
