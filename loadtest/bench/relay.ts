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
 *   pnpm bench relay --profile             the server runs under node --cpu-prof
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureDatabase, startEmbeddedPostgres } from "@handshake/db/embedded";
import { runIdleBench } from "./relay-idle";
import { runRealisticBench } from "./relay-realistic";

const here = path.dirname(fileURLToPath(import.meta.url));
const MAX_SECONDS = 120;
const usage = `usage:
  pnpm bench relay [--clients 2000] [--rate 20000] [--seconds 15] [--profile]
  pnpm bench relay --idle 100000 --nodes 6 [--probes 1000] [--probe-rate 100] [--concurrency 200]
  pnpm bench relay --realistic --devices 60000 [--nodes 4] [--steps 4] [--step-seconds 60] [--level average|peak] [--message-limit r]
options:
  --clients n    WebSocket clients exchanging messages (default 2000)
  --rate r       messages per second offered, open loop (default 20000)
  --seconds s    how long to send (default 15, at most ${MAX_SECONDS})
  --idle n       hold n idle subscribed devices (seeded, not registered) and measure memory per
                 connection, connects/s and latency of probes to random idle devices
  --nodes k      server processes for --idle (over a nats-server when k > 1; default: as few as
                 the 20,000 open-files limit allows); client processes: one per 18,000 devices
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
  --profile      run the server under node --cpu-prof (loadtest/reports/profiles/)
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
      seconds: { type: "string", default: "15" },
      idle: { type: "string" },
      nodes: { type: "string" },
      probes: { type: "string", default: "1000" },
      "probe-rate": { type: "string", default: "100" },
      concurrency: { type: "string", default: "200" },
      "connect-seconds": { type: "string", default: "900" },
      profile: { type: "boolean", default: false },
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
if (values.nodes !== undefined) usageError("--nodes goes with --idle or --realistic (the exchange mode runs one server process)");
const seconds = Math.min(MAX_SECONDS, positive("seconds", values.seconds));
positive("rate", values.rate);
const clients = Math.floor(positive("clients", values.clients));
// Each connection is a file descriptor in both processes; the hard limit cannot be raised here.
const fdLimit = await readFile("/proc/self/limits", "utf8")
  .then((t) => Number(t.match(/Max open files\s+\d+\s+(\d+)/)?.[1] ?? 1_000_000))
  .catch(() => 1_000_000);
if (clients > fdLimit - 500) {
  console.error(`${clients} connections need ${clients} file descriptors per process; this machine's hard limit is ${fdLimit} (ulimit -Hn). Use at most ${fdLimit - 500}.`);
  process.exit(2);
}

function lines(child: ChildProcess, onJson: (o: Record<string, unknown>) => void) {
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      onJson(JSON.parse(line) as Record<string, unknown>);
    } catch {
      console.log(line);
    }
  });
  child.stderr?.pipe(process.stderr);
}

function next(child: ChildProcess, key: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const listener = (o: Record<string, unknown>) => {
      if (key in o || o.phase === key) resolve(o);
    };
    waiters.get(child)!.push(listener);
    child.once("exit", (code) => reject(new Error(`process exited (${code}) before "${key}"`)));
  });
}
const waiters = new Map<ChildProcess, Array<(o: Record<string, unknown>) => void>>();
function watch(child: ChildProcess) {
  waiters.set(child, []);
  lines(child, (o) => {
    for (const w of waiters.get(child)!) w(o);
    if (o.phase) console.log(`  clients: ${JSON.stringify(o)}`);
  });
}

const rssOf = async (pid: number) => Number((await readFile(`/proc/${pid}/status`, "utf8")).match(/VmRSS:\s+(\d+)/)![1]) * 1024;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

const scratch = await mkdtemp(path.join(tmpdir(), "handshake-bench-relay-"));
await chmod(scratch, 0o755);
const profileDir = path.join(here, "..", "reports", "profiles");
const pg = await startEmbeddedPostgres({ dataDir: path.join(scratch, "pg") });
let server: ChildProcess | null = null;
let load: ChildProcess | null = null;
try {
  const databaseUrl = await ensureDatabase(pg.url, "bench_relay");
  if (values.profile) await mkdir(profileDir, { recursive: true });
  const nodeArgs = ["--import", "tsx", "--expose-gc", ...(values.profile ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [])];
  server = spawn(process.execPath, [...nodeArgs, path.join(here, "relay-server.ts"), databaseUrl], { cwd: here, stdio: ["pipe", "pipe", "pipe"] });
  watch(server);
  const ready = await next(server, "ready");
  server.stdin!.write("mem\n");
  const baseline = (await next(server, "mem")).mem as { rss: number; heapUsed: number };
  console.log(`server ready (pid ${String(ready.pid)}), baseline RSS ${mb(baseline.rss)}, heap ${mb(baseline.heapUsed)}`);

  load = spawn(process.execPath, ["--import", "tsx", path.join(here, "relay-clients.ts"), "exchange", String(ready.url), String(ready.wsUrl), String(clients), values.rate!, String(seconds)], {
    cwd: here,
    stdio: ["pipe", "pipe", "pipe"],
  });
  watch(load);
  await next(load, "connected");
  const result = await next(load, "done");

  server.stdin!.write("mem\n");
  const after = (await next(server, "mem")).mem as { rss: number; heapUsed: number };
  const rss = await rssOf(Number(ready.pid));
  const perConnection = (after.rss - baseline.rss) / clients;
  console.log("\nrelay benchmark (127.0.0.1, one messenger process, embedded PostgreSQL with default durability)");
  {
    console.log(`  clients                 ${clients}`);
    console.log(`  offered rate            ${values.rate} msg/s for ${seconds} s (open loop)`);
    console.log(`  sustained (delivered)   ${Math.round(Number(result.deliveredPerSecond))} msg/s`);
    console.log(`  delivery latency        p50 ${String(result.p50)} ms, p99 ${String(result.p99)} ms, max ${String(result.max)} ms (${String(result.samples)} samples)`);
    console.log(`  sent / received / errs  ${String(result.sent)} / ${String(result.received)} / ${String(result.sendErrors)}`);
  }
  console.log(`  server RSS              ${mb(rss)} (after GC ${mb(after.rss)}; heap ${mb(after.heapUsed)})`);
  console.log(`  memory per connection   ${(perConnection / 1024).toFixed(1)} KB (RSS growth after GC / connections)`);
} finally {
  load?.kill("SIGTERM");
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once("exit", resolve));
    server.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  }
  await pg.stop();
  await rm(scratch, { recursive: true, force: true });
  if (values.profile) console.log(`  CPU profile in ${profileDir} (open in Chrome DevTools or speedscope)`);
}
