/**
 * `pnpm bench relay`: real WebSocket clients (their own process) exchanging
 * messages through a real messenger (its own process) and a real PostgreSQL
 * (embedded, in a temp folder). 127.0.0.1 only; bounded in time and count.
 *
 *   pnpm bench relay [--clients 2000] [--rate 20000] [--seconds 15]
 *   pnpm bench relay --idle 100000 --nodes 6   idle subscribed devices over K server processes
 *                                              (bench/relay-idle.ts): memory per connection,
 *                                              connects/s, latency to a random idle device
 *   pnpm bench relay --realistic --devices 60000 --nodes 4   connected devices at the workload
 *                                              model's per-device rates, stepped up (bench/relay-realistic.ts)
 *   pnpm bench relay --profile             the server runs under node --cpu-prof; prints the top
 *                                          self-time functions
 *   pnpm bench relay --allocations         bytes the servers allocate per delivered message, and where
 *   pnpm bench relay --floor               each rate also against the relay's floor (bench/relay-floor-server.ts):
 *                                          tRPC, frames, validation and NATS with no storage behind them
 *   pnpm bench relay --rates 1000,5000 --nodes 2 --baseline main --repeat 3
 *                                          a sweep of rates over K nodes (NATS between them), each
 *                                          rate run against the code at a git ref too, interleaved
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureDatabase, startEmbeddedPostgres } from "@handshake/db/embedded";
import { startNatsServer, type RunningNatsServer } from "@handshake/nats-server";
import { runIdleBench } from "./relay-idle";
import { runRealisticBench } from "./relay-realistic";
import { cpuSeconds, kernelCounts, kernelCountsBetween, machineTicks, postgresCpuSeconds, rssOf, type KernelCounts } from "./process-cpu";
import { allocationSites, printAllocationSites, printSelfTimes, selfTimes } from "./relay-profile";
import { env } from "../src/env";

const here = path.dirname(fileURLToPath(import.meta.url));
const MAX_SECONDS = 120;
const usage = `usage:
  pnpm bench relay [--clients 2000] [--rate 20000 | --rates 1000,5000] [--seconds 15] [--nodes k]
                   [--baseline <git ref>] [--repeat n] [--profile] [--allocations] [--floor]
  pnpm bench relay --idle 100000 --nodes 6 [--probes 1000] [--probe-rate 100] [--concurrency 200]
  pnpm bench relay --realistic --devices 60000 [--nodes 4] [--steps 4] [--step-seconds 60] [--level average|peak] [--message-limit r]
options:
  --clients n    WebSocket clients exchanging messages (default 2000)
  --rate r       messages per second offered, open loop (default 20000)
  --rates list   several offered rates, one run each (comma-separated)
  --seconds s    how long to send (default 15, at most ${MAX_SECONDS})
  --baseline ref also run every rate against the code at this git ref (git archive into a temp
                 folder, sharing node_modules), interleaved with this tree's runs; prints ratios
  --repeat n     run each (rate, code) n times and report medians (default 1)
  --idle n       hold n idle subscribed devices (seeded, not registered) and measure memory per
                 connection, connects/s and latency of probes to random idle devices
  --nodes k      server processes, over a nats-server when k > 1 (default 1; with --idle and --realistic
                 as few as the 20,000 open-files limit allows: one per 18,000 devices). Client
                 processes: one per 18,000 devices (--idle), 16,000 (--realistic)
  --probes p     probe messages to random idle devices (default 1000, at most 20000)
  --probe-rate r probes per second (default 100)
  --concurrency c  connections each client process opens at once (default 200)
  --connect-seconds s  stop connecting after s seconds (default 900, at most 1800) and measure what is held
  --realistic    N connected devices sending and reconnecting at the workload model's per-device rates,
                 stepped up to N in --steps (default 4) of --step-seconds (default 60); prints the largest
                 N held at delivery p99 < 100 ms and the nodes like this machine 1e9 users need
  --devices n    connected devices at the last step of --realistic (at most 500000)
  --level l      the model's average day (default) or the NYE 2016 peak ("peak")
  --message-limit r  messages/s one node carries (e.g. from the burst bench) for the node count;
                 default: what the held step carried
  --profile      run the server(s) under node --cpu-prof (loadtest/reports/profiles/) and print the
                 functions with the most self time
  --allocations  sample what the servers allocate over the window (V8's sampling heap profiler, freed
                 objects included; loadtest/reports/profiles/) and print KB per delivered message and
                 the top allocation sites
  --floor        also run every rate against the relay's floor, interleaved, and print this/floor ratios:
                 the same clients, tRPC, frames, input schemas and NATS bus, nothing stored or checked
                 (bench/relay-floor-server.ts); what the servers spend per message before PostgreSQL,
                 caches and consent
  -h, --help     this text`;

function usageError(message: string): never {
  console.error(`error: ${message}\n${usage}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      clients: { type: "string", default: "2000" },
      rate: { type: "string", default: "20000" },
      rates: { type: "string" },
      baseline: { type: "string" },
      repeat: { type: "string", default: "1" },
      seconds: { type: "string", default: "15" },
      idle: { type: "string" },
      nodes: { type: "string" },
      probes: { type: "string", default: "1000" },
      "probe-rate": { type: "string", default: "100" },
      concurrency: { type: "string", default: "200" },
      "connect-seconds": { type: "string", default: "900" },
      profile: { type: "boolean", default: false },
      allocations: { type: "boolean", default: false },
      floor: { type: "boolean", default: false },
      realistic: { type: "boolean", default: false },
      devices: { type: "string" },
      steps: { type: "string", default: "4" },
      "step-seconds": { type: "string", default: "60" },
      level: { type: "string", default: "average" },
      "message-limit": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
} catch (error) {
  usageError(error instanceof Error ? error.message : String(error));
}
const { values } = parsed;
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const positive = (name: string, raw: string) => {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) usageError(`--${name} must be a positive number, got "${raw}"`);
  return value;
};
if (values.floor && (values.idle !== undefined || values.realistic)) usageError("--floor applies to the exchange bench (no --idle or --realistic)");
if (values.idle !== undefined) {
  const devices = Math.floor(positive("idle", values.idle));
  const nodes = values.nodes !== undefined ? Math.floor(positive("nodes", values.nodes)) : Math.ceil(devices / 18_000);
  if (nodes > 32) usageError("--nodes must be at most 32 on one machine");
  if (devices > 500_000) usageError("--idle must be at most 500000 (bounded run)");
  try {
    await runIdleBench({
      devices,
      nodes,
      probes: Math.min(20_000, Math.floor(positive("probes", values.probes))),
      probeRate: positive("probe-rate", values["probe-rate"]),
      concurrency: Math.floor(positive("concurrency", values.concurrency)),
      connectSeconds: Math.min(1800, positive("connect-seconds", values["connect-seconds"])),
    });
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  process.exit(0);
}
if (values.realistic) {
  if (values.devices === undefined) usageError("--realistic needs --devices N");
  const devices = Math.floor(positive("devices", values.devices));
  if (devices > 500_000) usageError("--devices must be at most 500000 (bounded run)");
  const nodes = values.nodes !== undefined ? Math.floor(positive("nodes", values.nodes)) : Math.ceil(devices / 18_000);
  if (nodes > 32) usageError("--nodes must be at most 32 on one machine");
  if (values.level !== "average" && values.level !== "peak") usageError(`--level must be "average" or "peak", got "${values.level}"`);
  const steps = Math.floor(positive("steps", values.steps));
  if (steps > 20) usageError("--steps must be at most 20");
  try {
    await runRealisticBench({
      devices,
      nodes,
      steps,
      stepSeconds: Math.min(600, positive("step-seconds", values["step-seconds"])),
      level: values.level,
      concurrency: Math.floor(positive("concurrency", values.concurrency)),
      ...(values["message-limit"] !== undefined ? { messageLimit: positive("message-limit", values["message-limit"]) } : {}),
    });
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  process.exit(0);
}
if (values.floor && values.baseline) usageError("--floor and --baseline are both comparisons with this tree; take one at a time");
const seconds = Math.min(MAX_SECONDS, positive("seconds", values.seconds));
const rates = (values.rates ?? values.rate).split(",").map((r) => positive("rates", r.trim()));
const clients = Math.floor(positive("clients", values.clients));
const nodes = values.nodes !== undefined ? Math.floor(positive("nodes", values.nodes)) : 1;
if (nodes > 8) usageError("--nodes must be at most 8 for the exchange bench");
const repeat = Math.floor(positive("repeat", values.repeat));
if (rates.length * repeat * (values.baseline ? 2 : 1) > 40) usageError("at most 40 runs (rates × repeat × variants)");
// Each connection is a file descriptor in both processes; the hard limit cannot be raised here.
const fdLimit = await readFile("/proc/self/limits", "utf8")
  .then((t) => Number(t.match(/Max open files\s+\d+\s+(\d+)/)?.[1] ?? 1_000_000))
  .catch(() => 1_000_000);
if (clients > fdLimit - 500) {
  console.error(`${clients} connections need ${clients} file descriptors per process; this machine's hard limit is ${fdLimit} (ulimit -Hn). Use at most ${fdLimit - 500}.`);
  process.exit(2);
}

/** A child process speaking JSON lines; waits for the first line matching a predicate. */
class Child {
  private readonly waiters: Array<{ match: (o: Record<string, unknown>) => boolean; resolve: (o: Record<string, unknown>) => void }> = [];
  readonly exited: Promise<number | null>;
  constructor(
    readonly name: string,
    readonly process: ChildProcess,
    onLine?: (o: Record<string, unknown>) => void,
  ) {
    this.exited = new Promise((resolve) => process.once("exit", (code) => resolve(code)));
    createInterface({ input: process.stdout! }).on("line", (line) => {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch {
        console.log(`  ${name}: ${line}`);
        return;
      }
      onLine?.(o);
      for (const w of [...this.waiters]) {
        if (w.match(o)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(o);
        }
      }
    });
    process.stderr?.on("data", (chunk: Buffer) => globalThis.process.stderr.write(`  ${name}: ${chunk.toString()}`));
  }
  next(match: (o: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no answer in ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ match, resolve: (o) => (clearTimeout(timer), resolve(o)) });
      void this.exited.then((code) => (clearTimeout(timer), reject(new Error(`${this.name} exited (${code})`))));
    });
  }
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill("SIGTERM");
    const gone = await Promise.race([this.exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 15_000))]);
    if (!gone) this.process.kill("SIGKILL");
  }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const median = (all: number[]) => {
  const s = all.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * The code at `ref` in a temp folder: `git archive`, the root node_modules linked and every
 * package's own node_modules copied (pnpm's links there are relative, so they point inside the copy).
 */
async function checkoutBaseline(ref: string): Promise<{ root: string; commit: string }> {
  const repo = path.resolve(here, "..", "..");
  const commit = execFileSync("git", ["-C", repo, "rev-parse", "--verify", `${ref}^{commit}`], { encoding: "utf8" }).trim();
  const root = await mkdtemp(path.join(tmpdir(), "handshake-bench-baseline-"));
  execFileSync("sh", ["-c", 'git -C "$1" archive "$2" | tar -x -C "$3"', "sh", repo, commit, root]);
  await symlink(path.join(repo, "node_modules"), path.join(root, "node_modules"));
  const baselinePatches = await declaredPatches(root);
  for (const top of ["apps", "packages", "tooling", "loadtest"]) {
    const dirs = top === "loadtest" ? [""] : await readdir(path.join(root, top)).catch(() => []);
    for (const dir of dirs) {
      const from = path.join(repo, top, dir, "node_modules");
      const to = path.join(root, top, dir);
      if (!(await readdir(from).catch(() => null)) || !(await readdir(to).catch(() => null))) continue;
      execFileSync("cp", ["-a", from, to]);
      await unpatchLinks(path.join(to, "node_modules"), repo, baselinePatches);
    }
  }
  return { root, commit };
}

/**
 * `name@version` of each dependency patch the baseline's pnpm-workspace.yaml declares,
 * with the hash its lockfile gives that patch (pnpm names the patched copy after it).
 */
async function declaredPatches(root: string): Promise<Map<string, string | undefined>> {
  const text = await readFile(path.join(root, "pnpm-workspace.yaml"), "utf8").catch(() => "");
  const block = text.split(/^patchedDependencies:\s*$/m)[1]?.split(/^\S/m)[0] ?? "";
  const lock = await readFile(path.join(root, "pnpm-lock.yaml"), "utf8").catch(() => "");
  const lockBlock = lock.split(/^patchedDependencies:\s*$/m)[1]?.split(/^\S/m)[0] ?? "";
  const hashes = new Map([...lockBlock.matchAll(/^ {2}["']?([^"'\s][^"':]*?)["']?:\s*\n\s+hash:\s*([0-9a-f]+)/gm)].map((m) => [m[1]!, m[2]!]));
  return new Map([...block.matchAll(/^\s+["']?([^"'\s#][^"':]*?)["']?:\s/gm)].map((m) => [m[1]!, hashes.get(m[1]!)]));
}

/**
 * Links into this checkout's node_modules/.pnpm that lead to a patched copy of a package
 * whose patch the baseline does not declare are pointed at the unpatched copy, and those
 * whose patch the baseline declares with other contents (another hash) at the copy
 * patched as the baseline had it, when the store still holds it: so the baseline runs
 * the dependencies it had. (Without this, a change made in a patch ran on both sides and
 * its effect vanished from the ratios.)
 */
async function unpatchLinks(nodeModules: string, repo: string, declared: Map<string, string | undefined>): Promise<void> {
  const store = path.join(repo, "node_modules", ".pnpm");
  const entries = await readdir(nodeModules, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const link = path.join(nodeModules, entry.name);
    if (entry.isDirectory() && entry.name.startsWith("@")) {
      await unpatchLinks(link, repo, declared);
      continue;
    }
    if (!entry.isSymbolicLink()) continue;
    const target = await readlink(link);
    const match = target.match(/\.pnpm\/([^/]+)_patch_hash=[^/]+\/node_modules\/(.+)$/);
    if (!match) continue;
    const [, dirName, packagePath] = match as unknown as [string, string, string];
    // The patched package is the one named right before `_patch_hash` (a peer, e.g.
    // drizzle-orm@…_postgres@3.4.9_patch_hash=…, or the package itself).
    const patchedPackage = dirName.split("_").at(-1)!.replace(/\+/g, "/");
    if (declared.has(patchedPackage)) {
      const hash = declared.get(patchedPackage);
      // pnpm shortens long folder names, the hash with them: compare what is left of it.
      const hashIn = (name: string) => name.match(/_patch_hash=([0-9a-f]+)/)?.[1] ?? "";
      const sameHash = (name: string) => hashIn(name).length >= 6 && hash!.startsWith(hashIn(name));
      if (!hash || sameHash(target)) continue;
      const asBaseline = (await readdir(store)).find((d) => d.startsWith(`${dirName}_patch_hash=`) && sameHash(d));
      if (!asBaseline) {
        console.warn(`  baseline: no copy of ${dirName} with the baseline's ${patchedPackage} patch in node_modules/.pnpm; it runs this tree's`);
        continue;
      }
      await rm(link);
      await symlink(path.join(store, asBaseline, "node_modules", packagePath), link);
      continue;
    }
    const unpatched = (await readdir(store)).find((d) => d.startsWith(`${dirName}_`) && !d.includes("_patch_hash="));
    if (!unpatched) {
      console.warn(`  baseline: no copy of ${dirName} without ${patchedPackage}'s patch in node_modules/.pnpm; it runs patched`);
      continue;
    }
    await rm(link);
    await symlink(path.join(store, unpatched, "node_modules", packagePath), link);
  }
}

interface Variant {
  label: string;
  root: string;
  /** The server each node runs: the messenger, or the relay's floor (`--floor`). */
  server: "relay-server.ts" | "relay-floor-server.ts";
}
interface Run {
  variant: string;
  rate: number;
  delivered: number;
  p50: number;
  p99: number;
  max: number;
  serverUsPerMsg: number;
  serverCores: number;
  natsCores: number;
  pgCores: number;
  clientCores: number;
  machineBusy: number;
  sent: number;
  errors: number;
  dropped: number;
  duplicates: number;
  rss: number;
  /**
   * The servers' read and write system calls and context switches per delivered message
   * in the window (/proc/PID/io, /proc/PID/status): on this VM a loopback write costs
   * ~15–20 µs of CPU, so these say how much of µs/msg the kernel's share is.
   */
  kernelPerMsg: KernelCounts;
}

const scratch = await mkdtemp(path.join(tmpdir(), "handshake-bench-relay-"));
await chmod(scratch, 0o755);
const profileRoot = path.join(here, "..", "reports", "profiles");
const profileStamp = new Date().toISOString().replace(/[:.]/g, "-");
const pgDataDir = path.join(scratch, "pg");
const pg = await startEmbeddedPostgres({ dataDir: pgDataDir });
let nats: RunningNatsServer | null = null;
let baselineRoot: string | null = null;
const live: Child[] = [];
let runIndex = 0;

async function runOnce(variant: Variant, rate: number): Promise<Run> {
  // The floor stores nothing: it gets no database (its first argument is ignored).
  const databaseUrl = variant.server === "relay-server.ts" ? await ensureDatabase(pg.url, `bench_relay_${runIndex++}`) : "-";
  const profileDir = path.join(profileRoot, `${profileStamp}-${variant.label}-${nodes}n-${rate}`);
  if (values.profile || values.allocations) await mkdir(profileDir, { recursive: true });
  const benchDir = path.join(variant.root, "loadtest", "bench");
  const nodeArgs = [
    "--import",
    "tsx",
    "--expose-gc",
    ...(env.HANDSHAKE_BENCH_SERVER_FLAGS?.split(/\s+/).filter(Boolean) ?? []),
    ...(values.profile ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : []),
    // This tree's sampler, also in a --baseline variant's servers (it is loaded by path, not imported).
    ...(values.allocations ? ["--import", path.join(here, "allocation-sampler.ts")] : []),
  ];
  const servers: { child: Child; pid: number; url: string; wsUrl: string }[] = [];
  try {
    for (let k = 0; k < nodes; k++) {
      const args = [...nodeArgs, path.join(benchDir, variant.server), databaseUrl, ...(nats ? [nats.url, `bench-node-${k}`] : [])];
      const child = new Child(`server ${k}`, spawn(process.execPath, args, { cwd: benchDir, stdio: ["pipe", "pipe", "pipe"] }));
      live.push(child);
      const ready = await child.next((o) => o.ready === true, 120_000);
      servers.push({ child, pid: Number(ready.pid), url: String(ready.url), wsUrl: String(ready.wsUrl) });
    }
    type Sample = { cpu: number[]; kernel: KernelCounts[]; nats: number; pg: number; machine: { busy: number; total: number } };
    let window: Promise<Sample> | null = null;
    let windowEnd: Promise<Sample> | null = null;
    let allocationFiles: string[] = [];
    let allocationReplies: Promise<Record<string, unknown>>[] = [];
    const sample = async (): Promise<Sample> => ({
      cpu: await Promise.all(servers.map((s) => cpuSeconds(s.pid))),
      kernel: await Promise.all(servers.map((s) => kernelCounts(s.pid))),
      nats: nats ? await cpuSeconds(nats.pid) : 0,
      pg: await postgresCpuSeconds(pgDataDir),
      machine: await machineTicks(),
    });
    const load = new Child(
      "clients",
      spawn(
        process.execPath,
        ["--import", "tsx", path.join(here, "relay-clients.ts"), "exchange", servers[0]!.url, servers.map((s) => s.wsUrl).join(","), String(clients), String(rate), String(seconds)],
        { cwd: here, stdio: ["pipe", "pipe", "pipe"] },
      ),
      (o) => {
        if (o.phase === "window-start") {
          window = sample();
          if (values.allocations) for (const s of servers) s.child.process.stdin?.write("alloc-start\n");
        }
        if (o.phase === "window-end") {
          windowEnd = sample();
          if (values.allocations) {
            allocationFiles = servers.map((s, k) => path.join(profileDir, `allocations-${k}.heapprofile`));
            // Listening before asking: the answer may come while the clients still drain.
            allocationReplies = servers.map((s) => s.child.next((r) => r.allocations !== undefined || r.allocationsError !== undefined, 60_000));
            servers.forEach((s, k) => s.child.process.stdin?.write(`alloc-stop ${allocationFiles[k]}\n`));
          }
        }
      },
    );
    live.push(load);
    await load.next((o) => o.phase === "connected", 300_000);
    const result = await load.next((o) => o.phase === "done", (seconds + 120) * 1000);
    const [a, b] = await Promise.all([window!, windowEnd!]);
    const measuredSeconds = Number(result.measuredSeconds);
    const serverCpu = b.cpu.reduce((s, x, i) => s + x - a.cpu[i]!, 0);
    const deliveredInWindow = Number(result.deliveredInWindow);
    const kernel = kernelCountsBetween(a.kernel, b.kernel);
    const perMessage = (n: number) => (deliveredInWindow > 0 ? n / deliveredInWindow : NaN);
    if (values.allocations) {
      const replies = await Promise.all(allocationReplies);
      const failed = replies.find((r) => r.allocationsError !== undefined);
      if (failed) throw new Error(`allocation sampling failed: ${String(failed.allocationsError)}`);
      printAllocationSites(`${variant.label}, ${nodes} node(s), ${rate} msg/s (${profileDir})`, await allocationSites(allocationFiles), deliveredInWindow);
    }
    const rss = (await Promise.all(servers.map((s) => rssOf(s.pid)))).reduce((x, y) => x + y, 0);
    await load.stop();
    return {
      variant: variant.label,
      rate,
      delivered: Number(result.deliveredPerSecond),
      p50: Number(result.p50),
      p99: Number(result.p99),
      max: Number(result.max),
      // Nothing delivered in the window (a starved server): no per-message figure.
      serverUsPerMsg: deliveredInWindow > 0 ? (serverCpu / deliveredInWindow) * 1e6 : NaN,
      serverCores: serverCpu / measuredSeconds,
      natsCores: (b.nats - a.nats) / measuredSeconds,
      pgCores: (b.pg - a.pg) / measuredSeconds,
      clientCores: Number(result.clientCores),
      machineBusy: (b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total),
      sent: Number(result.sent),
      errors: Number(result.sendErrors),
      dropped: Number(result.dropped),
      duplicates: Number(result.duplicates),
      rss,
      kernelPerMsg: {
        reads: perMessage(kernel.reads),
        writes: perMessage(kernel.writes),
        voluntarySwitches: perMessage(kernel.voluntarySwitches),
        involuntarySwitches: perMessage(kernel.involuntarySwitches),
      },
    };
  } finally {
    await Promise.all(servers.map((s) => s.child.stop()));
    if (values.profile) {
      const files = (await readdir(profileDir)).filter((f) => f.endsWith(".cpuprofile")).map((f) => path.join(profileDir, f));
      if (files.length > 0) printSelfTimes(`${variant.label}, ${nodes} node(s), ${rate} msg/s (${profileDir})`, await selfTimes(files));
    }
  }
}

const fmt = (r: Run) =>
  [
    r.variant.padEnd(10),
    String(r.rate).padStart(7),
    String(Math.round(r.delivered)).padStart(9),
    String(r.p50).padStart(6),
    String(r.p99).padStart(6),
    String(r.max).padStart(6),
    (Number.isNaN(r.serverUsPerMsg) ? "n/a" : r.serverUsPerMsg.toFixed(0)).padStart(7),
    r.serverCores.toFixed(2).padStart(6),
    r.natsCores.toFixed(2).padStart(5),
    r.pgCores.toFixed(2).padStart(5),
    r.clientCores.toFixed(2).padStart(6),
    `${(r.machineBusy * 100).toFixed(0)}%`.padStart(5),
    `${r.errors}/${r.dropped}/${r.duplicates}`.padStart(9),
  ].join(" ");
const header = `${"code".padEnd(10)} ${"offered".padStart(7)} ${"delivered".padStart(9)} ${"p50".padStart(6)} ${"p99".padStart(6)} ${"max".padStart(6)} ${"µs/msg".padStart(7)} ${"srvCPU".padStart(6)} ${"nats".padStart(5)} ${"pg".padStart(5)} ${"genCPU".padStart(6)} ${"mach".padStart(5)} ${"err/drop/dup".padStart(9)}`;

const runs: Run[] = [];
try {
  if (nodes > 1) nats = await startNatsServer();
  const root = path.resolve(here, "..", "..");
  const variants: Variant[] = [{ label: "this", root, server: "relay-server.ts" }];
  if (values.floor) variants.unshift({ label: "floor", root, server: "relay-floor-server.ts" });
  if (values.baseline) {
    const baseline = await checkoutBaseline(values.baseline);
    baselineRoot = baseline.root;
    variants.unshift({ label: `${values.baseline.slice(0, 10)}`, root: baseline.root, server: "relay-server.ts" });
    console.log(`baseline: ${values.baseline} = ${baseline.commit} in ${baseline.root}`);
  }
  console.log(`relay benchmark: ${clients} clients, ${nodes} node(s)${nats ? " over nats-server" : ""}, ${seconds} s per run, rates ${rates.join(", ")}, ${repeat} repeat(s)`);
  console.log(`  ${header}`);
  for (let r = 0; r < repeat; r++) {
    for (const rate of rates) {
      for (const variant of variants) {
        const run = await runOnce(variant, rate);
        runs.push(run);
        console.log(`  ${fmt(run)}`);
      }
    }
  }
} finally {
  await Promise.all(live.map((c) => c.stop()));
  await nats?.stop();
  await pg.stop();
  await rm(scratch, { recursive: true, force: true });
  if (baselineRoot) await rm(baselineRoot, { recursive: true, force: true });
}

console.log(`\nrelay benchmark (127.0.0.1, ${nodes} messenger process(es)${nodes > 1 ? " over nats-server" : ""}, embedded PostgreSQL with default durability; ${clients} clients, open loop)`);
if (values.floor) console.log(`  floor = the same clients against ${nodes} floor server(s): tRPC, frames, input schemas and NATS, nothing stored or checked`);
console.log("  medians over repeats; µs/msg = server CPU (all nodes) per delivered message in the window; srvCPU, nats, pg (PostgreSQL,");
console.log("  all its processes), genCPU in cores");
console.log("  (genCPU near 1.0 means the load generator itself is saturated); mach = whole-machine busy; err/drop/dup = send errors,");
console.log("  messages not delivered by 10 s after sending stopped (still queued, or lost), messages delivered twice");
console.log(`  ${header}`);
const labels = [...new Set(runs.map((r) => r.variant))];
const medianRun = (label: string, rate: number): Run | null => {
  const rs = runs.filter((r) => r.variant === label && r.rate === rate);
  if (rs.length === 0) return null;
  const m = (pick: (r: Run) => number) => median(rs.map(pick));
  return {
    variant: label,
    rate,
    delivered: m((r) => r.delivered),
    p50: m((r) => r.p50),
    p99: m((r) => r.p99),
    max: m((r) => r.max),
    serverUsPerMsg: m((r) => r.serverUsPerMsg),
    serverCores: m((r) => r.serverCores),
    natsCores: m((r) => r.natsCores),
    pgCores: m((r) => r.pgCores),
    clientCores: m((r) => r.clientCores),
    machineBusy: m((r) => r.machineBusy),
    sent: m((r) => r.sent),
    errors: rs.reduce((s, r) => s + r.errors, 0),
    dropped: rs.reduce((s, r) => s + r.dropped, 0),
    duplicates: rs.reduce((s, r) => s + r.duplicates, 0),
    rss: m((r) => r.rss),
    kernelPerMsg: {
      reads: m((r) => r.kernelPerMsg.reads),
      writes: m((r) => r.kernelPerMsg.writes),
      voluntarySwitches: m((r) => r.kernelPerMsg.voluntarySwitches),
      involuntarySwitches: m((r) => r.kernelPerMsg.involuntarySwitches),
    },
  };
};
for (const rate of rates) {
  const row = labels.map((l) => medianRun(l, rate)!);
  for (const r of row) console.log(`  ${fmt(r)}`);
  if (row.length === 2) {
    const [old, now] = row as [Run, Run];
    const against = old.variant === "floor" ? "floor" : "baseline";
    console.log(`  ${"ratio".padEnd(10)} ${String(rate).padStart(7)}   CPU/msg this/${against} ${(now.serverUsPerMsg / old.serverUsPerMsg).toFixed(2)}, p99 ${(now.p99 / old.p99).toFixed(2)}`);
  }
}
for (const label of labels) {
  const ok = rates
    .map((rate) => medianRun(label, rate)!)
    .filter((r) => r.p99 < 100 && r.dropped === 0 && r.delivered >= 0.95 * r.rate);
  const best = ok.sort((a, b) => b.rate - a.rate)[0];
  console.log(`  ${label}: server RSS at the end of a run (median, all nodes) ${mb(median(runs.filter((r) => r.variant === label).map((r) => r.rss)))}`);
  for (const rate of rates) {
    const k = medianRun(label, rate)!.kernelPerMsg;
    console.log(
      `  ${label}: ${rate} msg/s, servers' system calls per delivered message (median): ${k.reads.toFixed(2)} reads, ${k.writes.toFixed(2)} writes; ` +
        `context switches ${k.voluntarySwitches.toFixed(2)} voluntary, ${k.involuntarySwitches.toFixed(2)} involuntary`,
    );
  }
  console.log(`  ${label}: highest offered rate with p99 < 100 ms, nothing dropped, ≥ 95% delivered: ${best ? `${best.rate} msg/s` : "none of the rates tried"} (${nodes} node(s))`);
}
process.exit(0);
