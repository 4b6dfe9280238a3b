import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { countLocalIps, executionSegments, generatorPlan } from "./generators";
import { connectionDemand, plan } from "./workload";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** A stand-in k6 that only answers `k6 version` (real k6 cannot be installed here); any run would fail loudly. */
function fakeK6(version: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "handshake-fake-k6-")), "k6");
  writeFileSync(file, `#!/bin/sh\nif [ "$1" = version ]; then echo "k6 ${version} (commit/0000000, go1.25.0, linux/amd64)"; exit 0; fi\necho "fake k6 must not run tests" >&2; exit 42\n`);
  chmodSync(file, 0o755);
  return file;
}

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], { cwd: root, encoding: "utf8", timeout: 60_000, env: { ...process.env, K6: fakeK6("v1.6.1") } });

describe("how many generators a run needs", () => {
  it("steady at 4 shards holds 93,668 WebSockets: more than one source address's ephemeral ports", () => {
    const p = plan({ shards: 4, shardCount: 10_000 });
    const demand = connectionDemand("steady", p.average, p.usersInSample, 200);
    expect(demand.websockets).toBe(93_668);
    const one = generatorPlan(demand, { localIps: 1, portsPerAddress: 28_232, openFiles: 1_048_576 });
    expect(one).toMatchObject({ perGenerator: 28_232, limitedBy: "ephemeral ports", needed: 4 });
    const fourAddresses = generatorPlan(demand, { localIps: 4, portsPerAddress: 28_232, openFiles: 1_048_576 });
    expect(fourAddresses.needed).toBe(1);
    // The open-files limit binds too: 20,000 here, whatever the addresses.
    expect(generatorPlan(demand, { localIps: 4, portsPerAddress: 28_232, openFiles: 20_000 })).toMatchObject({ limitedBy: "open files", needed: 5 });
  });

  it("counts k6 --local-ips ranges, CIDRs and lists; rejects what is no address", () => {
    expect(countLocalIps("127.0.0.2-127.0.0.5")).toBe(4);
    expect(countLocalIps("127.0.1.0/30,127.0.0.9")).toBe(5);
    expect(() => countLocalIps("127.0.0.300")).toThrow(/not an IPv4 address/);
    expect(() => countLocalIps("127.0.0.5-127.0.0.2")).toThrow(/ends before it starts/);
  });

  it("execution segments for n instances cover 0..1 with one shared sequence (k6-operator's format)", () => {
    expect(executionSegments(4)).toEqual({ segments: ["0:1/4", "1/4:2/4", "2/4:3/4", "3/4:1"], sequence: "0,1/4,2/4,3/4,1" });
    expect(executionSegments(1)).toEqual({ segments: ["0:1"], sequence: "0,1" });
  });

  it("`plan` says how many generators a run needs and refuses (exit 2) a plan one generator cannot hold", () => {
    const refused = cli("plan", "steady", "--shards", "4", "--open-files", "1048576", "--ports-per-address", "28232");
    expect(refused.status).toBe(2);
    expect(refused.stdout).toContain("generators: 94,062 sockets to the messenger (93,668 WebSockets + 394 HTTP)");
    expect(refused.stdout).toContain("generators needed: 4");
    expect(refused.stderr).toMatch(/one generator cannot hold 94,062 sockets .*--local-ips 127\.0\.0\.2-127\.0\.0\.5.*--generators 4/);

    const aliases = cli("plan", "steady", "--shards", "4", "--open-files", "1048576", "--ports-per-address", "28232", "--local-ips", "127.0.0.2-127.0.0.5");
    expect(aliases.status).toBe(0);
    expect(aliases.stdout).toContain("4 source addresses × 28,232 ephemeral ports");

    const split = cli("plan", "steady", "--shards", "4", "--open-files", "1048576", "--ports-per-address", "28232", "--generators", "4");
    expect(split.status).toBe(0);
    expect(split.stdout).toContain("generator 4: k6 run --execution-segment 3/4:1 --execution-segment-sequence 0,1/4,2/4,3/4,1");
  });

  it("`run` refuses the same plan before starting anything (no stack, no seeding)", () => {
    const run = cli("run", "steady", "--shards", "4", "--open-files", "1048576", "--ports-per-address", "28232");
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/one generator cannot hold/);
    expect(run.stdout).not.toMatch(/seed|stack/i);
  });
});
