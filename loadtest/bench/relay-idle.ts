/**
 * `pnpm bench relay --idle N [--nodes K]`: N idle, subscribed devices held across
 * K messenger processes (joined by a real nats-server when K > 1) and as many
 * client processes as the open-files limit needs, on one embedded PostgreSQL.
 * Prints server memory per connection (RSS growth after GC / N), connects per
 * second, and the delivery latency of probe messages sent to random idle devices.
 * 127.0.0.1 only (clients bind 127.0.0.2 …); bounded in time and count.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { ensureDatabase, startEmbeddedPostgres } from "@handshake/db/embedded";
import { migrateDatabase } from "@handshake/db/migrate";
import { startNatsServer, type RunningNatsServer } from "@handshake/nats-server";
import { benchAccountId, benchCredential, seedBenchDevices } from "./relay-idle-devices";
import { env } from "../src/env";
import { rssOf } from "./process-cpu";
import type { ServerStats } from "./relay-server-stats";

const here = path.dirname(fileURLToPath(import.meta.url));
/** Sockets per process we allow ourselves under the 20,000 open-files hard limit. */
const SOCKETS_PER_PROCESS = 18_000;

export interface IdleBenchOptions {
  devices: number;
  nodes: number;
  /** Probe messages sent to random idle devices (at `probeRate` per second). */
  probes: number;
  probeRate: number;
  /** Connections each client process opens at once. */
  concurrency: number;
  /** Connecting stops after this long; the run measures what is held then. */
  connectSeconds: number;
}

export type Json = Record<string, unknown>;
interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
}

export class Child {
  private waiters: Array<(o: Json) => void> = [];
  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    createInterface({ input: process.stdout! }).on("line", (line) => {
      let o: Json;
      try {
        o = JSON.parse(line) as Json;
      } catch {
        console.log(`  [${name}] ${line}`);
        return;
      }
      for (const w of this.waiters) w(o);
    });
    process.stderr!.on("data", (chunk: Buffer) => globalThis.process.stderr.write(`  [${name}] ${chunk.toString()}`));
  }
  next(match: (o: Json) => boolean, timeoutMs: number): Promise<Json> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: nothing after ${timeoutMs / 1000} s`)), timeoutMs);
      const onExit = (code: number | null) => reject(new Error(`${this.name} exited (${code})`));
      const waiter = (o: Json) => {
        if (!match(o)) return;
        clearTimeout(timer);
        this.process.off("exit", onExit);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(o);
      };
      this.waiters.push(waiter);
      this.process.once("exit", onExit);
    });
  }
  send(line: string) {
    this.process.stdin!.write(`${line}\n`);
  }
}

/**
 * Ends a bench's child processes: client processes get `stop` (they close their
 * sockets), then every child still running gets SIGTERM, and SIGKILL after 15 s.
 */
export async function stopChildren(children: Child[], stop: string): Promise<void> {
  for (const child of children) if (child.name.startsWith("clients")) child.send(stop);
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const child of children) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.process.once("exit", resolve));
    child.process.kill("SIGTERM");
    const force = setTimeout(() => child.process.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(force);
  }
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
export const pct = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

export async function runIdleBench(options: IdleBenchOptions): Promise<void> {
  const { devices, nodes } = options;
  if (Math.ceil(devices / nodes) > SOCKETS_PER_PROCESS) {
    throw new Error(
      `${devices} connections over ${nodes} server process(es) is ${Math.ceil(devices / nodes)} each; a process may open 20,000 files here. Use --nodes ${Math.ceil(devices / SOCKETS_PER_PROCESS)} or more.`,
    );
  }
  const clientProcesses = Math.max(1, Math.ceil(devices / SOCKETS_PER_PROCESS));
  const scratch = await mkdtemp(path.join(tmpdir(), "handshake-bench-idle-"));
  await chmod(scratch, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: path.join(scratch, "pg") });
  let nats: RunningNatsServer | null = null;
  const children: Child[] = [];
  try {
    const databaseUrl = await ensureDatabase(pg.url, "bench_relay_idle");
    await migrateDatabase(databaseUrl, "messenger");
    const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
    // Each connect commits a last-seen update; this bench measures holding connections,
    // not fsync latency, so commits here do not wait for the WAL flush (new sessions only).
    await sql.unsafe("alter database bench_relay_idle set synchronous_commit = off");
    const seedStart = performance.now();
    // One more device than connect: index `devices` is the prober's.
    await seedBenchDevices(sql, devices + 1, (done) => {
      if (done % 50_000 === 0) console.log(`  seeded ${done} devices`);
    });
    console.log(`seeded ${devices + 1} accounts and devices in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
    await sql.end();

    if (nodes > 1) nats = await startNatsServer();
    const natsRss0 = nats ? await rssOf(nats.pid) : 0;
    const servers: { child: Child; pid: number; port: number; baseline: number; heap: number; external: number }[] = [];
    for (let k = 0; k < nodes; k++) {
      const args = ["--import", "tsx", "--expose-gc", path.join(here, "relay-server.ts"), databaseUrl, ...(nats ? [nats.url, `bench-node-${k}`] : [])];
      const child = new Child(`server ${k}`, spawn(process.execPath, args, { cwd: here, stdio: ["pipe", "pipe", "pipe"] }));
      children.push(child);
      const ready = await child.next((o) => o.ready === true, 120_000);
      child.send("mem");
      const mem = (await child.next((o) => "mem" in o, 30_000)).mem as Mem;
      servers.push({ child, pid: Number(ready.pid), port: Number(new URL(String(ready.url)).port), baseline: mem.rss, heap: mem.heapUsed, external: mem.external });
    }
    const baselineTotal = servers.reduce((s, x) => s + x.baseline, 0);
    console.log(`${nodes} server process(es) ready, baseline RSS ${mb(baselineTotal)} in total${nats ? `; nats-server ${mb(natsRss0)}` : ""}`);

    // Heap snapshots of server 0 before and after connecting, to see what a connection holds.
    const snapshotDir = env.HANDSHAKE_BENCH_HEAP_SNAPSHOTS;
    if (snapshotDir) {
      servers[0]!.child.send(`snapshot ${path.join(snapshotDir, "idle-before.heapsnapshot")}`);
      await servers[0]!.child.next((o) => o.snapshot === true, 120_000);
    }
    const perClient = Math.ceil(devices / clientProcesses);
    const clients: Child[] = [];
    const connectStart = performance.now();
    for (let c = 0; c < clientProcesses; c++) {
      const from = c * perClient;
      const count = Math.min(perClient, devices - from);
      const config = {
        from,
        count,
        ports: servers.map((s) => s.port),
        // 8 source addresses per client process, from 127.0.0.2 up.
        firstAddress: 2 + c * 8,
        addresses: 8,
        concurrency: options.concurrency,
        connectSeconds: options.connectSeconds,
      };
      const child = new Child(`clients ${c}`, spawn(process.execPath, ["--import", "tsx", path.join(here, "relay-idle-clients.ts"), JSON.stringify(config)], { cwd: here, stdio: ["pipe", "pipe", "pipe"] }));
      children.push(child);
      clients.push(child);
    }
    const held = new Map<Child, number>();
    for (const client of clients) {
      void client.next((o) => {
        if (o.phase === "progress") held.set(client, Number(o.connected));
        return false;
      }, options.connectSeconds * 1000 + 120_000).catch(() => {});
    }
    const progressTimer = setInterval(() => {
      const total = [...held.values()].reduce((s, n) => s + n, 0);
      if (total > 0) console.log(`  ${total} connected after ${((performance.now() - connectStart) / 1000).toFixed(0)} s`);
    }, 60_000);
    const connectedReports = await Promise.all(clients.map((c) => c.next((o) => o.phase === "connected", options.connectSeconds * 1000 + 120_000)));
    clearInterval(progressTimer);
    const connectSeconds = (performance.now() - connectStart) / 1000;
    const connected = connectedReports.reduce((s, r) => s + Number(r.connected), 0);
    const failed = connectedReports.reduce((s, r) => s + Number(r.failed), 0);
    const firstError = connectedReports.find((r) => r.firstError)?.firstError;
    const notTried = connectedReports.reduce((s, r) => s + Number(r.notTried), 0);
    console.log(`${connected} connected, ${failed} failed${firstError ? ` (first: ${String(firstError)})` : ""} in ${connectSeconds.toFixed(1)} s${notTried ? `; ${notTried} not tried before the ${options.connectSeconds} s connect deadline` : ""}`);

    if (snapshotDir) {
      servers[0]!.child.send(`snapshot ${path.join(snapshotDir, "idle-after.heapsnapshot")}`);
      await servers[0]!.child.next((o) => o.snapshot === true, 120_000);
    }
    // Probes: one seeded device sends to random idle devices over HTTP, through random nodes.
    const prober = benchCredential(devices);
    const probeLatencies: number[] = [];
    /** How long each probe's message.send took to answer (stored and published). */
    const sendDurations: number[] = [];
    const slowest: { p: number; ms: number; at: number }[] = [];
    let probeErrors = 0;
    // Warm-up: a server's first sends are slow (JIT, pool connections opening: the first
    // took ~0.7 s here) and at 100 probes/s the ones behind them queue; that cold start,
    // not the idle sockets, was the seconds-long p99. Each server carries `warmup` sends
    // first (unmeasured; the clients drop what they measured), then the probes run.
    const warmup = Math.min(options.probes, 50);
    const warmupStart = performance.now();
    await Promise.all(
      servers.flatMap((server) =>
        Array.from({ length: warmup }, async (_, w) => {
          await new Promise((resolve) => setTimeout(resolve, (w * 1000) / Math.min(options.probeRate, 50)));
          const content = Buffer.alloc(64);
          content.writeDoubleBE(Date.now(), 0);
          await fetch(`http://127.0.0.1:${server.port}/trpc/message.send`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${prober}` },
            body: JSON.stringify({ messageId: crypto.randomUUID(), recipient: { accountId: benchAccountId(Math.floor(Math.random() * devices)) }, type: 1, content: content.toString("base64") }),
          }).then((r) => r.arrayBuffer(), () => undefined);
        }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const client of clients) client.send("reset");
    await Promise.all(clients.map((client) => client.next((o) => o.phase === "reset", 60_000)));
    console.log(`warm-up: ${warmup} sends through each server in ${((performance.now() - warmupStart) / 1000).toFixed(1)} s (not measured)`);
    // Event-loop and GC figures of the probe window only (the connect storm is behind us).
    for (const server of servers) server.child.send("stats");
    await Promise.all(servers.map((server) => server.child.next((o) => "stats" in o, 60_000)));
    const interval = 1000 / options.probeRate;
    const probeStart = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let p = 0; p < options.probes; p++) {
      const due = probeStart + p * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const target = Math.floor(Math.random() * devices);
      const server = servers[Math.floor(Math.random() * servers.length)]!;
      const content = Buffer.alloc(64);
      content.writeDoubleBE(Date.now(), 0);
      const sentAt = performance.now();
      inFlight.push(
        fetch(`http://127.0.0.1:${server.port}/trpc/message.send`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${prober}` },
          body: JSON.stringify({ messageId: crypto.randomUUID(), recipient: { accountId: benchAccountId(target) }, type: 1, content: content.toString("base64") }),
        })
          .then(async (r) => {
            sendDurations.push(performance.now() - sentAt);
            slowest.push({ p, ms: performance.now() - sentAt, at: (sentAt - probeStart) / 1000 });
            if (!r.ok) {
              probeErrors += 1;
              if (probeErrors === 1) console.log(`  probe refused: ${await r.text()}`);
            }
          })
          .catch(() => void (probeErrors += 1)),
      );
    }
    await Promise.all(inFlight);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    let dropped = 0;
    let open = 0;
    let clientLoopMax = 0;
    for (const client of clients) {
      client.send("report");
      const report = await client.next((o) => o.phase === "report", 60_000);
      probeLatencies.push(...(report.latencies as number[]));
      dropped += Number(report.dropped);
      open += Number(report.open);
      clientLoopMax = Math.max(clientLoopMax, Number(report.loopMaxMs));
    }
    probeLatencies.sort((x, y) => x - y);
    sendDurations.sort((x, y) => x - y);
    for (const server of servers) server.child.send("stats");
    const serverStats = await Promise.all(servers.map((server) => server.child.next((o) => "stats" in o, 60_000)));

    let afterTotal = 0;
    let rssTotal = 0;
    let heapGrowth = 0;
    let externalGrowth = 0;
    for (const server of servers) {
      server.child.send("mem");
      const mem = (await server.child.next((o) => "mem" in o, 60_000)).mem as Mem;
      afterTotal += mem.rss;
      heapGrowth += mem.heapUsed - server.heap;
      externalGrowth += mem.external - server.external;
      rssTotal += await rssOf(server.pid);
    }
    const natsRss1 = nats ? await rssOf(nats.pid) : 0;
    const perConnection = (afterTotal - baselineTotal) / Math.max(1, connected);

    console.log(`\nidle connections (127.0.0.1; ${nodes} messenger process(es)${nats ? " over nats-server" : ""}, ${clientProcesses} client process(es), embedded PostgreSQL)`);
    console.log(`  subscribed devices held     ${connected} of ${devices} (${failed} failed to connect, ${dropped} dropped, ${open} open at the end)`);
    console.log(`  connects per second         ${(connected / connectSeconds).toFixed(0)} (${connectSeconds.toFixed(1)} s for all; auth + subscribe + backlog read each)`);
    console.log(`  server memory               RSS ${mb(rssTotal)} in total; after GC ${mb(afterTotal)} vs ${mb(baselineTotal)} before`);
    console.log(`  memory per connection       ${(perConnection / 1024).toFixed(1)} KB (server RSS growth after GC / connections)`);
    console.log(`    of which JS heap          ${(heapGrowth / Math.max(1, connected) / 1024).toFixed(1)} KB, external ${(externalGrowth / Math.max(1, connected) / 1024).toFixed(1)} KB`);
    if (nats) console.log(`  nats-server per connection  ${((natsRss1 - natsRss0) / Math.max(1, connected) / 1024).toFixed(2)} KB (${mb(natsRss1)} RSS; one subscription per device)`);
    console.log(
      `  probe to a random device    p50 ${pct(probeLatencies, 0.5)} ms, p99 ${pct(probeLatencies, 0.99)} ms, max ${probeLatencies.at(-1) ?? NaN} ms (${probeLatencies.length} of ${options.probes} delivered, ${probeErrors} refused, ${options.probeRate}/s)`,
    );
    console.log(`    of which message.send     p50 ${Math.round(pct(sendDurations, 0.5))} ms, p99 ${Math.round(pct(sendDurations, 0.99))} ms, max ${Math.round(sendDurations.at(-1) ?? NaN)} ms (the HTTP answer: stored and published)`);
    slowest.sort((a, b) => b.ms - a.ms);
    console.log(`    slowest sends             ${slowest.slice(0, 8).map((x) => `#${x.p} at ${x.at.toFixed(1)} s: ${Math.round(x.ms)} ms`).join(", ")}`);
    const loops = serverStats.map((o) => o.stats as ServerStats);
    const gcMax = Math.max(0, ...loops.flatMap((l) => Object.values(l.gc).map((g) => g.maxMs)));
    const gcTotal = loops.reduce((s, l) => s + Object.values(l.gc).reduce((t, g) => t + g.totalMs, 0), 0);
    console.log(
      `  during the probes           server event-loop delay p99 ${Math.max(...loops.map((l) => l.loopP99Ms))} ms, max ${Math.max(...loops.map((l) => l.loopMaxMs))} ms; GC pauses longest ${gcMax.toFixed(0)} ms, ${(gcTotal / loops.length).toFixed(0)} ms per server in total; client event-loop delay max ${clientLoopMax.toFixed(0)} ms`,
    );
  } finally {
    await stopChildren(children, "stop");
    await nats?.stop();
    await pg.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}
