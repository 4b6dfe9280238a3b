import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { k6Args, k6Env, k6Version } from "./k6";

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
    expect(run.stderr).toMatch(/k6 1\.6 or later/);
    expect(run.stderr).toMatch(/brew install k6/);
    expect(run.stdout).not.toMatch(/seed|stack/i);
  });

  it("refuses a k6 older than 1.6 (no k6/websockets) the same way", () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "handshake-old-k6-")), "k6");
    writeFileSync(file, '#!/bin/sh\necho "k6 v1.5.0 (commit/1234567, go1.24.4, linux/amd64)"\n');
    chmodSync(file, 0o755);
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "run", "steady", "--shards", "1"], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, K6: file },
      timeout: 60_000,
    });
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/found k6 v1\.5, but the scripts need k6 >= 1\.6 \(k6\/websockets\)/);
    expect(k6Version("k6 v2.2.0 (commit/abc, go1.25)")).toEqual([2, 2]);
  });

  it("always turns k6's usage report off, reads the summary from handleSummary, passes --local-ips", () => {
    const args = k6Args("scenarios/steady.ts", "/tmp/out", { TARGET: "http://127.0.0.1:4100" }, { localIps: "127.0.0.2-127.0.0.5" });
    expect(args).toContain("--no-usage-report");
    expect(args).not.toContain("--summary-export");
    expect(args.at(-1)).toBe("scenarios/steady.ts");
    expect(args.join(" ")).toContain("-e TARGET=http://127.0.0.1:4100");
    expect(args.join(" ")).toContain("-e SUMMARY_PATH=/tmp/out/summary.json");
    expect(args.join(" ")).toContain("--local-ips 127.0.0.2-127.0.0.5");
    expect(k6Env("/tmp/out", { webDashboard: true })).toMatchObject({ K6_WEB_DASHBOARD_HOST: "127.0.0.1", K6_WEB_DASHBOARD_EXPORT: "/tmp/out/k6-dashboard.html" });
  });
});
