/**
 * `pnpm bench relay`: real WebSocket clients (their own process) exchanging
 * messages through a real messenger (its own process) and a real PostgreSQL
 * (embedded, in a temp folder). 127.0.0.1 only; bounded in time and count.
 *
 *   pnpm bench relay [--clients 2000] [--rate 20000] [--seconds 15]
 *   pnpm bench relay --idle 18000          idle connections: memory per connection
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

const here = path.dirname(fileURLToPath(import.meta.url));
const MAX_SECONDS = 120;
const usage = `usage:
  pnpm bench relay [--clients 2000] [--rate 20000] [--seconds 15] [--profile]
  pnpm bench relay --idle 18000 [--profile]
options:
  --clients n    WebSocket clients exchanging messages (default 2000)
  --rate r       messages per second offered, open loop (default 20000)
  --seconds s    how long to send (default 15, at most ${MAX_SECONDS})
  --idle n       hold n idle subscribed connections instead, and measure memory per connection
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
      profile: { type: "boolean", default: false },
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
const seconds = Math.min(MAX_SECONDS, positive("seconds", values.seconds));
positive("rate", values.rate);
const clients = Math.floor(values.idle !== undefined ? positive("idle", values.idle) : positive("clients", values.clients));
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

  const mode = values.idle ? "idle" : "exchange";
  load = spawn(process.execPath, ["--import", "tsx", path.join(here, "relay-clients.ts"), mode, String(ready.url), String(ready.wsUrl), String(clients), values.rate!, String(seconds)], {
    cwd: here,
    stdio: ["pipe", "pipe", "pipe"],
  });
  watch(load);
  const connected = await next(load, "connected");
  void connected;
  let result: Record<string, unknown> | null = null;
  if (mode === "idle") await new Promise((resolve) => setTimeout(resolve, 3000));
  else result = await next(load, "done");

  server.stdin!.write("mem\n");
  const after = (await next(server, "mem")).mem as { rss: number; heapUsed: number };
  const rss = await rssOf(Number(ready.pid));
  const perConnection = (after.rss - baseline.rss) / clients;
  console.log("\nrelay benchmark (127.0.0.1, one messenger process, embedded PostgreSQL with default durability)");
  if (result) {
    console.log(`  clients                 ${clients}`);
    console.log(`  offered rate            ${values.rate} msg/s for ${seconds} s (open loop)`);
    console.log(`  sustained (delivered)   ${Math.round(Number(result.deliveredPerSecond))} msg/s`);
    console.log(`  delivery latency        p50 ${String(result.p50)} ms, p99 ${String(result.p99)} ms, max ${String(result.max)} ms (${String(result.samples)} samples)`);
    console.log(`  sent / received / errs  ${String(result.sent)} / ${String(result.received)} / ${String(result.sendErrors)}`);
  } else {
    console.log(`  idle connections        ${clients} (authenticated, inbox subscribed)`);
  }
  console.log(`  server RSS              ${mb(rss)} (after GC ${mb(after.rss)}; heap ${mb(after.heapUsed)})`);
  console.log(`  memory per connection   ${(perConnection / 1024).toFixed(1)} KB (RSS growth after GC / connections)`);
  if (mode === "idle") load.stdin!.write("stop\n");
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
