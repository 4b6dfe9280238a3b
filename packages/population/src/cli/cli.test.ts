import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createSpec, userAt } from "../index";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

function cli(args: string[], cwd = tmpdir()) {
  const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, INIT_CWD: cwd },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("population CLI", () => {
  it("describe prints the sample's tables", () => {
    const r = cli(["describe", "--shards", "0-1", "--size", "20000", "--shard-count", "10"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    for (const title of ["Countries", "OS", "Contacts", "Consent", "p50 / p90 / p99", "contacts inside the sample"]) {
      expect(r.out).toContain(title);
    }
    expect(r.out).toMatch(/users\s+4,000/);
  });

  it("export writes the same users as the library, relative to INIT_CWD", () => {
    const dir = mkdtempSync(join(tmpdir(), "population-"));
    const r = cli(["export", "--shards", "3", "--limit", "50", "--out", "u.ndjson", "--size", "20000", "--shard-count", "10"], dir);
    expect(r.code).toBe(0);
    const lines = readFileSync(join(dir, "u.ndjson"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(50);
    const spec = createSpec({ size: 20000, shardCount: 10 });
    const first = userAt(spec, 6000);
    expect(lines[0]).toEqual({ ...first, registeredAt: new Date(first.registeredAt).toISOString() });
    const csv = cli(["export", "--shards", "0", "--limit", "3", "--format", "csv", "--size", "20000", "--shard-count", "10"]);
    expect(csv.out.trim().split("\n")).toHaveLength(4);
    expect(csv.out.split("\n")[0]).toMatch(/^id,shard,country,phone,name,/);
  });

  it("rejects bad arguments with a clear message and exit code 2", () => {
    const cases: Array<[string[], RegExp]> = [
      [["describe"], /--shards is required/],
      [["describe", "--shards", "10000"], /out of range/],
      [["export", "--shards", "0", "--format", "xml"], /--format must be ndjson or csv/],
      [["describe", "--shards", "0", "--bogus"], /Unknown option/],
      [["describe", "--shards", "0", "--size", "1000", "--shard-count", "7"], /must divide/],
      [["frobnicate"], /unknown command/],
      [["seed", "--shards", "0"], /@handshake\/seed/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err).toMatch(message);
    }
  });
});
