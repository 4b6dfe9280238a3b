import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { Supervisor, type ExitInfo, type SupervisorOptions } from "./supervisor";

// Real child processes (node -e …) that crash, get killed, or ignore SIGTERM.
const scratch = await mkdtemp(path.join(tmpdir(), "handshake-supervisor-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

const running: Supervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((supervisor) => supervisor.stop()));
});

function supervise(name: string, script: string, options: SupervisorOptions = {}) {
  const lines: string[] = [];
  const notices: string[] = [];
  const supervisor = new Supervisor(
    { name, command: process.execPath, args: ["-e", script], cwd: scratch, env: { ...process.env, COUNTER: path.join(scratch, `${name}.count`) } },
    { minDelayMs: 20, maxDelayMs: 1_000, ...options, onLine: (_, line) => lines.push(line), onNotice: (_, message) => notices.push(message) },
  );
  running.push(supervisor);
  return { supervisor, lines, notices };
}

/** Resolves when the supervisor has spawned `count` processes in all. */
function spawns(supervisor: Supervisor, count: number): Promise<number> {
  let seen = 0;
  return new Promise((resolve) => {
    supervisor.on("spawn", (pid) => {
      if (++seen === count) resolve(pid);
    });
  });
}

const gaveUp = (supervisor: Supervisor) => new Promise<ExitInfo>((resolve) => supervisor.once("gave-up", resolve));

// Counts its runs in $COUNTER; crashes (exit 1) on the first `crashes` runs, then stays up.
const crashesThenStays = (crashes: number) => `
  const fs = require("node:fs");
  const run = (fs.existsSync(process.env.COUNTER) ? Number(fs.readFileSync(process.env.COUNTER, "utf8")) : 0) + 1;
  fs.writeFileSync(process.env.COUNTER, String(run));
  if (run <= ${crashes}) { console.error("boom on run " + run); process.exit(1); }
  console.log("up on run " + run);
  setInterval(() => {}, 1000);
`;

describe("Supervisor", () => {
  it("restarts a process that crashes, with doubling backoff, and says so", async () => {
    const { supervisor, lines, notices } = supervise("flaky", crashesThenStays(2), { minDelayMs: 100 });
    await spawns(supervisor, 3);
    await expect.poll(() => lines, { timeout: 20_000 }).toContain("up on run 3");
    expect(lines).toContain("boom on run 1");
    expect(supervisor.restarts).toBe(2);
    expect(supervisor.running).toBe(true);
    expect(notices).toEqual([
      expect.stringMatching(/^exited with code 1 after \d+\.\d s; restarting in 0\.1 s \(restart 1 of 5 in a row\)$/),
      expect.stringMatching(/^exited with code 1 after \d+\.\d s; restarting in 0\.2 s \(restart 2 of 5 in a row\)$/),
    ]);
  });

  it("gives up on a crash loop after maxRestarts restarts, with a clear message", async () => {
    const { supervisor, lines, notices } = supervise("loop", `console.error("crashing"); process.exit(3)`, { maxRestarts: 3 });
    let spawned = 0;
    supervisor.on("spawn", () => spawned++);
    const exit = await gaveUp(supervisor);
    expect(exit.code).toBe(3);
    expect(spawned).toBe(4); // the first run and 3 restarts
    expect(lines.filter((line) => line === "crashing")).toHaveLength(4);
    expect(notices).toHaveLength(4);
    expect(notices.at(-1)).toBe("exited with code 3 again after 3 restarts in a row; giving up on it (see its log above)");
    expect(supervisor.gaveUp).toEqual(exit);
    expect(supervisor.running).toBe(false);
  });

  it("restarts a process killed with SIGKILL (a fault, not a stop)", async () => {
    const { supervisor, lines, notices } = supervise("killed", `console.log("ready " + process.pid); setInterval(() => {}, 1000)`);
    const firstPid = await spawns(supervisor, 1);
    await expect.poll(() => lines, { timeout: 20_000 }).toContain(`ready ${firstPid}`);
    const second = spawns(supervisor, 1);
    process.kill(firstPid, "SIGKILL");
    const secondPid = await second;
    expect(secondPid).not.toBe(firstPid);
    expect(notices[0]).toMatch(/^was killed by SIGKILL after .*; restarting in/);
    await expect.poll(() => lines, { timeout: 20_000 }).toContain(`ready ${secondPid}`);
  });

  it("counts restarts in a row afresh after a run that lasted stableAfterMs", async () => {
    // Each run lives ~300 ms, longer than stableAfterMs: with one restart allowed in a
    // row it is restarted again and again and never given up on.
    const { supervisor, notices } = supervise("stable", `setTimeout(() => process.exit(1), 300)`, { maxRestarts: 1, stableAfterMs: 150 });
    await spawns(supervisor, 4);
    expect(supervisor.gaveUp).toBeNull();
    expect(notices.every((notice) => notice.endsWith("(restart 1 of 1 in a row)"))).toBe(true);
  });

  it("treats a command that cannot start as a crash, once per attempt", async () => {
    const notices: string[] = [];
    const supervisor = new Supervisor(
      { name: "missing", command: path.join(scratch, "no-such-command"), args: [], cwd: scratch, env: process.env },
      { maxRestarts: 1, minDelayMs: 20, onNotice: (_, message) => notices.push(message) },
    );
    running.push(supervisor);
    let exits = 0;
    supervisor.on("exit", () => exits++);
    await gaveUp(supervisor);
    expect(exits).toBe(2);
    expect(notices.filter((notice) => notice.startsWith("could not start: spawn") && notice.includes("ENOENT"))).toHaveLength(2);
    expect(notices.filter((notice) => /restarting in|giving up/.test(notice))).toHaveLength(2);
  });

  it("with maxRestarts 0 does not restart, and reports the exit", async () => {
    const { supervisor, notices } = supervise("once", `process.exit(2)`, { maxRestarts: 0 });
    const exit = await gaveUp(supervisor);
    expect(exit.code).toBe(2);
    expect(supervisor.restarts).toBe(0);
    expect(notices).toEqual(["exited with code 2; not restarting it (see its log above)"]);
  });

  it("stop() ends the process without restarting it, using SIGKILL when SIGTERM is ignored", async () => {
    const { supervisor, lines, notices } = supervise("stubborn", `process.on("SIGTERM", () => console.log("ignoring SIGTERM")); console.log("ready"); setInterval(() => {}, 1000)`, {
      stopTimeoutMs: 300,
    });
    const pid = await spawns(supervisor, 1);
    await expect.poll(() => lines, { timeout: 20_000 }).toContain("ready");
    const exited = new Promise<ExitInfo>((resolve) => supervisor.once("exit", resolve));
    await supervisor.stop();
    expect((await exited).signal).toBe("SIGKILL");
    expect(lines).toContain("ignoring SIGTERM");
    expect(() => process.kill(pid, 0)).toThrow();
    expect(notices).toEqual([]);
    expect(supervisor.restarts).toBe(0);
  });
});
