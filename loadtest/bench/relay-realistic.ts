/**
 * `pnpm bench relay --realistic --devices N --nodes K`: connected devices doing what
 * the workload model says a connected device does — send at its per-device rate
 * (42B messages/day over the connected share of 1e9 users), a share of them to
 * connected recipients (delivered live), the rest to offline ones (stored), and
 * reconnect at the model's churn (resuming after their last envelope) — over K
 * messenger processes (joined by nats-server when K > 1) on one embedded PostgreSQL.
 *
 * It steps the connected-device count up to N, holds each step for a while, and
 * prints the largest count held at delivery p99 < 100 ms; from that (and the
 * messages/s carried there) the nodes of this machine's size the 1e9 population
 * needs on an average day and on New Year's Eve 2016 (`nodesNeeded`, the rule the
 * k6 report's projection uses). A step passes only with samples, no errors, nothing
 * undelivered or dropped, and a load generator that kept its schedule.
 */
import { spawn } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { ensureDatabase, startEmbeddedPostgres } from "@handshake/db/embedded";
import { migrateDatabase } from "@handshake/db/migrate";
import { startNatsServer, type RunningNatsServer } from "@handshake/nats-server";
import { deviceRates, type DeviceRates } from "../src/model/workload";
import { nodesNeeded, populationDemand, type NodeLimits } from "../src/report/projection";
import { cpuSeconds, rssOf } from "./process-cpu";
import { Child, mb, pct, stopChildren, type Json } from "./relay-idle";
import { seedBenchDevices } from "./relay-idle-devices";
import type { ServerStats } from "./relay-server-stats";
import { env } from "../src/env";

const here = path.dirname(fileURLToPath(import.meta.url));
/** Sockets per process we allow ourselves under the 20,000 open-files hard limit. */
const SOCKETS_PER_SERVER = 18_000;
/** WebSockets per client process (it also holds HTTP connections for its sends). */
const SOCKETS_PER_CLIENT = 16_000;
/** Offline recipients: seeded, never connected; the model's undelivered share goes to them. */
const STUB_DEVICES = 1_000;
export const P99_TARGET_MS = 100;

export interface RealisticBenchOptions {
  devices: number;
  nodes: number;
  steps: number;
  stepSeconds: number;
  level: "average" | "peak";
  concurrency: number;
  /** A messages/s limit measured elsewhere (e.g. the burst bench); default: what the held step carried. */
  messageLimit?: number;
}

interface StepReport extends Json {
  held: number;
  open: number;
  latencies: number[];
  receivedByStep: Record<string, number>;
  duplicates: number;
  sentLive: number;
  sentStub: number;
  sendErrors: number;
  firstSendError: string | null;
  reconnects: number;
  reconnectFailures: number;
  reconnectLatencies: number[];
  dropped: number;
  ackErrors: number;
  lateness: number[];
  sendDurations: number[];
  cpu: number;
  loopDelayP99Ms: number;
}

export interface StepResult {
  devices: number;
  held: number;
  seconds: number;
  samples: number;
  p50: number;
  p99: number;
  max: number;
  sendP50: number;
  sendP99: number;
  sentLive: number;
  sentStub: number;
  undelivered: number;
  duplicates: number;
  errors: number;
  reconnects: number;
  reconnectFailures: number;
  reconnectP99: number;
  dropped: number;
  clientCpuMax: number;
  latenessP99: number;
  serverCpu: number;
  passed: boolean;
  why: string[];
}

/** Whether a step held, and why not: an empty step, errors or lost work never pass. */
export function judgeStep(s: Omit<StepResult, "passed" | "why">): { passed: boolean; why: string[] } {
  const why: string[] = [];
  if (s.samples === 0) why.push("no delivery samples");
  else if (!(s.p99 < P99_TARGET_MS)) why.push(`p99 ${s.p99} ms ≥ ${P99_TARGET_MS} ms`);
  if (s.held < s.devices) why.push(`${s.devices - s.held} devices not connected`);
  if (s.errors > 0) why.push(`${s.errors} send/ack errors`);
  if (s.undelivered > 0) why.push(`${s.undelivered} undelivered`);
  if (s.reconnectFailures > 0) why.push(`${s.reconnectFailures} reconnects failed`);
  if (s.dropped > 0) why.push(`${s.dropped} connections dropped`);
  // Late arrivals shift send times (each message carries its real one) but a generator
  // that falls seconds behind, or runs out of CPU, no longer offers the model's rate.
  if (s.clientCpuMax > 0.85 || s.latenessP99 > 1000) why.push(`load generator saturated (CPU ${(s.clientCpuMax * 100).toFixed(0)}%, arrivals late by p99 ${s.latenessP99.toFixed(0)} ms)`);
  return { passed: why.length === 0, why };
}

export async function runRealisticBench(options: RealisticBenchOptions): Promise<void> {
  const { devices, nodes } = options;
  if (Math.ceil(devices / nodes) > SOCKETS_PER_SERVER) {
    throw new Error(`${devices} connections over ${nodes} server process(es) is ${Math.ceil(devices / nodes)} each; a process may open 20,000 files here. Use --nodes ${Math.ceil(devices / SOCKETS_PER_SERVER)} or more.`);
  }
  const rates: DeviceRates = deviceRates(options.level);
  const clientProcesses = Math.max(1, Math.ceil(devices / SOCKETS_PER_CLIENT));
  const sizes = Array.from({ length: options.steps }, (_, k) => Math.round((devices * (k + 1)) / options.steps));
  console.log(
    `model (${options.level === "peak" ? "NYE 2016" : "average day"}): a connected device sends ${rates.sendsPerSecond.toFixed(5)} msg/s (${(rates.deliveredShare * 100).toFixed(1)}% to connected recipients) and reconnects ${rates.reconnectsPerSecond.toFixed(5)}/s`,
  );
  console.log(`steps: ${sizes.join(", ")} connected devices, ${options.stepSeconds} s each; ${nodes} messenger process(es), ${clientProcesses} client process(es)`);

  const scratch = await mkdtemp(path.join(tmpdir(), "handshake-bench-realistic-"));
  await chmod(scratch, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: path.join(scratch, "pg") });
  let nats: RunningNatsServer | null = null;
  const children: Child[] = [];
  const results: StepResult[] = [];
  try {
    const databaseUrl = await ensureDatabase(pg.url, "bench_relay_realistic");
    await migrateDatabase(databaseUrl, "messenger");
    const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
    // Default durability: sends commit with the WAL flush, as in production.
    await seedBenchDevices(sql, devices + STUB_DEVICES);
    await sql.end();
    if (nodes > 1) nats = await startNatsServer();
    const servers: { child: Child; pid: number; port: number; baseline: number }[] = [];
    for (let k = 0; k < nodes; k++) {
      const profiles = env.HANDSHAKE_BENCH_CPU_PROFILES;
      const args = ["--import", "tsx", "--expose-gc", ...(profiles ? ["--cpu-prof", "--cpu-prof-dir", profiles] : []), path.join(here, "relay-server.ts"), databaseUrl, ...(nats ? [nats.url, `bench-node-${k}`] : [])];
      const child = new Child(`server ${k}`, spawn(process.execPath, args, { cwd: here, stdio: ["pipe", "pipe", "pipe"] }));
      children.push(child);
      const ready = await child.next((o) => o.ready === true, 120_000);
      servers.push({ child, pid: Number(ready.pid), port: Number(new URL(String(ready.url)).port), baseline: await rssOf(Number(ready.pid)) });
    }
    const clients: Child[] = [];
    for (let c = 0; c < clientProcesses; c++) {
      const config = { index: c, processes: clientProcesses, ports: servers.map((s) => s.port), firstAddress: 2 + c * 8, addresses: 8, concurrency: options.concurrency };
      const child = new Child(`clients ${c}`, spawn(process.execPath, ["--import", "tsx", path.join(here, "relay-realistic-clients.ts"), JSON.stringify(config)], { cwd: here, stdio: ["pipe", "pipe", "pipe"] }));
      children.push(child);
      clients.push(child);
      await child.next((o) => o.phase === "ready", 60_000);
    }

    for (const [step, size] of sizes.entries()) {
      const connectStart = performance.now();
      for (const client of clients) client.send(JSON.stringify({ cmd: "connect", upTo: size }));
      const connected = await Promise.all(clients.map((c) => c.next((o) => o.phase === "connected", 1_800_000)));
      const held = connected.reduce((s, r) => s + Number(r.connected), 0);
      const failed = connected.reduce((s, r) => s + Number(r.failed), 0);
      const firstError = connected.find((r) => r.firstError)?.firstError;
      console.log(`step ${step + 1}: ${held} of ${size} connected (${failed} failed${firstError ? `, first: ${String(firstError)}` : ""}) in ${((performance.now() - connectStart) / 1000).toFixed(1)} s`);

      const spec = {
        cmd: "run",
        step,
        seconds: options.stepSeconds,
        devices: size,
        sendsPerDevicePerSecond: rates.sendsPerSecond,
        reconnectsPerDevicePerSecond: rates.reconnectsPerSecond,
        deliveredShare: rates.deliveredShare,
        stubFrom: devices,
        stubCount: STUB_DEVICES,
        settleSeconds: 5,
      };
      if (step === 0) {
        // 50 sends per server process, unmeasured, before anything is timed.
        const sends = Math.ceil((50 * nodes) / clients.length);
        for (const client of clients) client.send(JSON.stringify({ ...spec, cmd: "warmup", sends }));
        await Promise.all(clients.map((c) => c.next((o) => o.phase === "warm", 300_000)));
        console.log(`  warm-up: ${sends * clients.length} sends (not measured)`);
      }
      // "stats" resets the servers' event-loop and GC figures; the reply after the step covers it alone.
      for (const server of servers) server.child.send("stats");
      await Promise.all(servers.map((server) => server.child.next((o) => "stats" in o, 60_000)));
      const cpu0 = await Promise.all(servers.map((s) => cpuSeconds(s.pid)));
      const t0 = performance.now();
      for (const client of clients) client.send(JSON.stringify(spec));
      const reports = (await Promise.all(clients.map((c) => c.next((o) => o.phase === "step", (options.stepSeconds + 120) * 1000)))) as StepReport[];
      const cpu1 = await Promise.all(servers.map((s) => cpuSeconds(s.pid)));
      for (const server of servers) server.child.send("stats");
      const serverStats = (await Promise.all(servers.map((server) => server.child.next((o) => "stats" in o, 60_000)))).map((o) => o.stats as ServerStats);
      const wall = (performance.now() - t0) / 1000;
      const latencies = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
      const reconnectLatencies = reports.flatMap((r) => r.reconnectLatencies).sort((a, b) => a - b);
      const sendDurations = reports.flatMap((r) => r.sendDurations).sort((a, b) => a - b);
      const lateness = reports.flatMap((r) => r.lateness).sort((a, b) => a - b);
      const sentLive = reports.reduce((s, r) => s + r.sentLive, 0);
      const received = reports.reduce((s, r) => s + (r.receivedByStep[String(step)] ?? 0), 0);
      const firstSendError = reports.find((r) => r.firstSendError)?.firstSendError;
      const measured = {
        devices: size,
        held: Math.min(held, reports.reduce((s, r) => s + r.open, 0)),
        seconds: options.stepSeconds,
        samples: latencies.length,
        p50: pct(latencies, 0.5),
        p99: pct(latencies, 0.99),
        max: latencies.at(-1) ?? NaN,
        sendP50: Math.round(pct(sendDurations, 0.5)),
        sendP99: Math.round(pct(sendDurations, 0.99)),
        sentLive,
        sentStub: reports.reduce((s, r) => s + r.sentStub, 0),
        undelivered: Math.max(0, sentLive - received),
        duplicates: reports.reduce((s, r) => s + r.duplicates, 0),
        errors: reports.reduce((s, r) => s + r.sendErrors + r.ackErrors, 0),
        reconnects: reports.reduce((s, r) => s + r.reconnects, 0),
        reconnectFailures: reports.reduce((s, r) => s + r.reconnectFailures, 0),
        reconnectP99: pct(reconnectLatencies, 0.99),
        dropped: reports.reduce((s, r) => s + r.dropped, 0),
        clientCpuMax: Math.max(...reports.map((r) => r.cpu)),
        latenessP99: pct(lateness, 0.99) || 0,
        serverCpu: cpu1.reduce((s, t, k) => s + t - cpu0[k]!, 0) / wall,
      };
      const result: StepResult = { ...measured, ...judgeStep(measured) };
      results.push(result);
      console.log(
        `  ${result.passed ? "held" : "FAILED"}: delivery p50 ${result.p50} ms, p99 ${result.p99} ms, max ${result.max} ms (${result.samples} samples; message.send answered p50 ${result.sendP50} ms, p99 ${result.sendP99} ms); ` +
          `sent ${sentLive} live + ${result.sentStub} offline, ${result.undelivered} undelivered, ${result.duplicates} duplicates, ${result.errors} errors${firstSendError ? ` (first: ${firstSendError})` : ""}; ` +
          `${result.reconnects} reconnects (${result.reconnectFailures} failed, p99 ${result.reconnectP99.toFixed(0)} ms), ${result.dropped} dropped; ` +
          `client CPU max ${(result.clientCpuMax * 100).toFixed(0)}%, arrivals late p99 ${result.latenessP99.toFixed(0)} ms, event-loop delay p99 ${Math.max(...reports.map((r) => r.loopDelayP99Ms)).toFixed(0)} ms; server CPU ${(result.serverCpu * 100).toFixed(0)}% of a core in total, ${describeServerStats(serverStats)}; machine load average ${loadavg()[0]!.toFixed(1)} on 2 cores` +
          (result.passed ? "" : `\n  why: ${result.why.join("; ")}`),
      );
      if (!result.passed) break;
    }
    const rssTotal = (await Promise.all(servers.map((s) => rssOf(s.pid)))).reduce((a, b) => a + b, 0);
    printHeadline(results, rates, options, rssTotal, servers.reduce((s, x) => s + x.baseline, 0));
  } finally {
    await stopChildren(children, JSON.stringify({ cmd: "stop" }));
    await nats?.stop();
    await pg.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Tells a delivery tail caused by the servers' own stalls (GC, a blocked loop) from one elsewhere (database, bus). */
function describeServerStats(stats: ServerStats[]): string {
  const pauses = stats.flatMap((s) => Object.entries(s.gc));
  const longest = pauses.reduce<[string, number]>((best, [kind, g]) => (g.maxMs > best[1] ? [kind, g.maxMs] : best), ["none", 0]);
  const major = pauses.filter(([kind]) => kind === "major").reduce((n, [, g]) => n + g.count, 0);
  return (
    `server event-loop delay p99 ${Math.max(...stats.map((s) => s.loopP99Ms))} ms, max ${Math.max(...stats.map((s) => s.loopMaxMs))} ms, ` +
    `longest GC pause ${longest[1].toFixed(0)} ms (${longest[0]}), ${major} major GCs`
  );
}

export function printHeadline(results: StepResult[], rates: DeviceRates, options: RealisticBenchOptions, rss: number, baseline: number) {
  const best = results.filter((r) => r.passed).at(-1);
  const last = results.at(-1);
  console.log(`\nrealistic relay (127.0.0.1; ${options.nodes} messenger process(es)${options.nodes > 1 ? " over nats-server" : ""}, embedded PostgreSQL, this machine as one node)`);
  console.log(`  largest N held at p99 < ${P99_TARGET_MS} ms   ${best ? `${best.devices} connected devices` : `none (step 1 failed: ${last?.why.join("; ") ?? "not run"})`}`);
  if (best) {
    const carried = best.devices * rates.sendsPerSecond;
    console.log(`    there                     p99 ${best.p99} ms over ${best.samples} samples, ${(carried).toFixed(1)} msg/s sent, ${(best.reconnects / best.seconds).toFixed(1)} reconnects/s, ${best.errors} errors, ${best.undelivered} undelivered, client CPU max ${(best.clientCpuMax * 100).toFixed(0)}%`);
    if (last && !last.passed) console.log(`    next step (${last.devices})        failed: ${last.why.join("; ")}`);
    else if (best.devices === options.devices) console.log(`    every step held: the limit is above ${options.devices} (run with a larger --devices)`);
    const limits: NodeLimits = { connections: best.devices, messagesPerSecond: options.messageLimit ?? carried };
    console.log(`  node limits                 ${limits.connections} connections, ${limits.messagesPerSecond.toFixed(1)} msg/s ${options.messageLimit ? "(--message-limit)" : "(carried at the model's ratio; a lower bound: --message-limit R takes a burst bench's figure)"}`);
    for (const level of ["average", "peak"] as const) {
      const demand = populationDemand(level);
      const n = nodesNeeded(demand, limits);
      console.log(
        `  nodes for 1e9, ${level === "average" ? "average day" : "NYE 2016   "}  ${n.nodes.toLocaleString("en-US")} (${(demand.connections / 1e6).toFixed(0)}M connected, ${Math.round(demand.messagesPerSecond).toLocaleString("en-US")} msg/s; bound by ${n.boundBy}: ${n.byConnections.toFixed(0)} by connections, ${n.byMessages.toFixed(0)} by messages)`,
      );
    }
  } else {
    console.log("  nodes for 1e9               – (no step held)");
  }
  console.log(`  server RSS                  ${mb(rss)} (${mb(baseline)} at start)`);
}
