/**
 * `pnpm bench queue`: the messenger's queue writer alone (apps/messenger/src/storage/queue.ts)
 * against a real embedded PostgreSQL, without WebSockets, tRPC or NATS: what storing and
 * acknowledging a message costs the database and the writer, per message and per batch.
 *
 *   pnpm bench queue [--flows 10,100,1500] [--seconds 10] [--accounts 200]
 *
 * Each flow loops over one message's whole life in the queue: a send from a random
 * account to another, the recipient's ack (which queues a delivery receipt), the
 * sender's ack of the receipt; it waits for each notice on the bus, as an inbox stream
 * would. The writer group-commits whatever is pending, so `--flows` sets the batch
 * size: a few flows make small batches (the fixed cost of a transaction shows),
 * hundreds make the batches a node falls into when it is behind. A statement whose
 * cost grows with the square of its batch shows here as µs/msg rising with --flows.
 *
 * The messenger runs in this process (its writer, its usage counting on the home
 * database), so "node" is the writer plus this driver; "pg" is every process of the
 * PostgreSQL server. 127.0.0.1 only; each run bounded by --seconds.
 */
import { randomUUID } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { ensureDatabase, startEmbeddedPostgres } from "@handshake/db/embedded";
import { createLogger } from "@handshake/messenger/log";
import { createMessengerServer } from "@handshake/messenger/server";
import { benchOptions, usageError, wholeOption } from "./bench-args";
import { machineTicks, postgresCpuSeconds } from "./process-cpu";
import { benchAccountId, seedBenchDevices } from "./relay-idle-devices";

const usage = `usage: pnpm bench queue [--flows 10,100,1500] [--seconds 10] [--accounts 200]
  --flows list   concurrent send → ack → receipt-ack loops, one run per value (sets the batch size)
  --seconds s    measured seconds per run, after 2 s of warm-up (default 10, at most 120)
  --accounts n   accounts the messages travel between (default 200, at most 100000)`;

const values = benchOptions(usage, { flows: "10,100,1500", seconds: "10", accounts: "200" });
const whole = (name: string, raw: string, max: number) => wholeOption(usage, name, raw, max);
const flowCounts = values.flows.split(",").map((f) => whole("flows", f.trim(), 5000));
const seconds = whole("seconds", values.seconds, 120);
const accountCount = whole("accounts", values.accounts, 100_000);
if (accountCount < 2) usageError(usage, "--accounts must be at least 2");

interface Run {
  flows: number;
  messagesPerSecond: number;
  batchesPerSecond: number;
  itemsPerBatch: number;
  nodeUsPerMessage: number;
  pgUsPerMessage: number;
  nodeCores: number;
  pgCores: number;
  machineBusy: number;
  errors: number;
}

const scratch = await mkdtemp(path.join(tmpdir(), "handshake-bench-queue-"));
await chmod(scratch, 0o755); // PostgreSQL runs as its own user when we are root
const pgDataDir = path.join(scratch, "pg");
const pg = await startEmbeddedPostgres({ dataDir: pgDataDir });

async function runOnce(flows: number, index: number): Promise<Run> {
  const databaseUrl = await ensureDatabase(pg.url, `bench_queue_${index}`);
  const server = await createMessengerServer({ databaseUrl, logger: createLogger({ level: "silent" }), rateLimits: false, poolSize: 6 });
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await seedBenchDevices(sql, accountCount);
    const accounts = Array.from({ length: accountCount }, (_, i) => benchAccountId(i));
    const { writer, bus } = server.services;
    // What each flow waits for: the notice of its envelope (message or receipt) on the bus.
    const waiting = new Map<string, (envelopeId: string) => void>();
    for (const accountId of accounts) {
      bus.subscribe({ accountId, deviceId: 1 }, (notice) => {
        const envelope = notice.envelope;
        if (!envelope) return;
        // The flows send type 1 (a message); anything else queued for that message id is its receipt.
        const key = `${accountId}/${envelope.messageId}/${envelope.type === 1 ? "message" : "receipt"}`;
        waiting.get(key)?.(envelope.id);
        waiting.delete(key);
      });
    }
    const noticeOf = (accountId: string, messageId: string, kind: "message" | "receipt") =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(`${accountId}/${messageId}/${kind}`);
          reject(new Error(`no notice of the ${kind} ${messageId} in 30 s`));
        }, 30_000);
        waiting.set(`${accountId}/${messageId}/${kind}`, (id) => (clearTimeout(timer), resolve(id)));
      });

    let completed = 0;
    let errors = 0;
    let stop = false;
    const content = Buffer.alloc(100, 7);
    const contentBase64 = content.toString("base64");
    const flow = async () => {
      while (!stop) {
        const from = accounts[Math.floor(Math.random() * accounts.length)]!;
        let to = accounts[Math.floor(Math.random() * accounts.length)]!;
        if (to === from) to = accounts[(accounts.indexOf(from) + 1) % accounts.length]!;
        const messageId = randomUUID();
        try {
          const delivered = noticeOf(to, messageId, "message");
          await writer.send({ sender: { accountId: from, deviceId: 1 }, recipient: { accountId: to, deviceId: 1 }, messageId, type: 1, content, contentBase64, category: null });
          const receipt = noticeOf(from, messageId, "receipt");
          await writer.ack({ accountId: to, deviceId: 1 }, [await delivered]);
          await writer.ack({ accountId: from, deviceId: 1 }, [await receipt]);
          completed += 1;
        } catch {
          errors += 1;
        }
      }
    };
    const running = Array.from({ length: flows }, flow);
    await new Promise((resolve) => setTimeout(resolve, 2000)); // warm-up: JIT, plans, pool
    const at = async () => ({
      time: performance.now(),
      node: process.cpuUsage(),
      pg: await postgresCpuSeconds(pgDataDir),
      machine: await machineTicks(),
      completed,
      batches: writer.stats.batches,
      items: writer.stats.items,
    });
    const a = await at();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const b = await at();
    stop = true;
    await Promise.all(running);
    const elapsed = (b.time - a.time) / 1000;
    const messages = b.completed - a.completed;
    const nodeSeconds = (b.node.user + b.node.system - a.node.user - a.node.system) / 1e6;
    const batches = b.batches - a.batches;
    return {
      flows,
      messagesPerSecond: messages / elapsed,
      batchesPerSecond: batches / elapsed,
      itemsPerBatch: batches > 0 ? (b.items - a.items) / batches : NaN,
      nodeUsPerMessage: messages > 0 ? (nodeSeconds / messages) * 1e6 : NaN,
      pgUsPerMessage: messages > 0 ? ((b.pg - a.pg) / messages) * 1e6 : NaN,
      nodeCores: nodeSeconds / elapsed,
      pgCores: (b.pg - a.pg) / elapsed,
      machineBusy: (b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total),
      errors,
    };
  } finally {
    await sql.end();
    await server.close();
  }
}

const header = `${"flows".padStart(6)} ${"msg/s".padStart(7)} ${"batch/s".padStart(7)} ${"items/b".padStart(7)} ${"node µs".padStart(7)} ${"pg µs".padStart(6)} ${"node".padStart(5)} ${"pg".padStart(5)} ${"mach".padStart(5)} ${"errors".padStart(6)}`;
const fmt = (r: Run) =>
  [
    String(r.flows).padStart(6),
    r.messagesPerSecond.toFixed(0).padStart(7),
    r.batchesPerSecond.toFixed(0).padStart(7),
    r.itemsPerBatch.toFixed(0).padStart(7),
    r.nodeUsPerMessage.toFixed(0).padStart(7),
    r.pgUsPerMessage.toFixed(0).padStart(6),
    r.nodeCores.toFixed(2).padStart(5),
    r.pgCores.toFixed(2).padStart(5),
    `${(r.machineBusy * 100).toFixed(0)}%`.padStart(5),
    String(r.errors).padStart(6),
  ].join(" ");

const runs: Run[] = [];
try {
  console.log(`queue writer bench: ${accountCount} accounts, ${seconds} s per run after 2 s of warm-up, flows ${flowCounts.join(", ")}`);
  console.log("  a message = send, the recipient's ack, the sender's ack of its receipt (three queue operations)");
  console.log("  µs = CPU per message; node = the writer and this driver, pg = every PostgreSQL process; cores; mach = whole machine busy");
  console.log(`  ${header}`);
  for (const [i, flows] of flowCounts.entries()) {
    const run = await runOnce(flows, i);
    runs.push(run);
    console.log(`  ${fmt(run)}`);
  }
} finally {
  await pg.stop();
  await rm(scratch, { recursive: true, force: true });
}
if (runs.some((r) => r.errors > 0)) console.log("  errors: operations that failed or whose notice never came (see above); their messages are not counted");
process.exit(0);
