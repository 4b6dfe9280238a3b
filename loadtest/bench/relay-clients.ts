/**
 * N real WebSocket clients in their own process (tRPC's ws protocol, as the k6
 * scripts speak it). Modes:
 *   exchange: every client sends over its own socket to a random other client,
 *             open-loop at RATE msgs/s in total, for SECONDS; receivers ack in batches.
 *   idle:     connect and subscribe, then hold until told to stop.
 * Prints JSON lines for the orchestrator (bench/relay.ts).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import WebSocket from "ws";

const [mode, trpcUrl, wsUrlArg, countArg, rateArg, secondsArg] = process.argv.slice(2);
// Several nodes: comma-separated WebSocket URLs, client i connects to the (i mod n)th.
const wsUrls = wsUrlArg!.split(",");
const count = Number(countArg);
const rate = Number(rateArg ?? 0);
const seconds = Number(secondsArg ?? 0);
const say = (o: unknown) => console.log(JSON.stringify(o));

interface Client {
  accountId: string;
  credential: string;
  ws?: WebSocket;
  nextId: number;
  acks: string[];
}

async function call<T>(path: string, input: unknown, method: "GET" | "POST" = "POST"): Promise<T> {
  const response =
    method === "GET"
      ? await fetch(`${trpcUrl}/${path}?input=${encodeURIComponent(JSON.stringify(input))}`)
      : await fetch(`${trpcUrl}/${path}`, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(input) });
  const body = (await response.json()) as { result?: { data: T }; error?: unknown };
  if (!body.result) throw new Error(`${path}: ${JSON.stringify(body.error)}`);
  return body.result.data;
}

/** Registration proves possession: request a code, read it from the simulated phone network, present it. */
async function register(n: number): Promise<Client> {
  const phoneNumber = `+49151${String(n).padStart(8, "0")}`;
  const { sessionId } = await call<{ sessionId: string }>("account.requestCode", { phoneNumber });
  const { code } = await call<{ code: string }>("phoneSimulator.readCode", { sessionId }, "GET");
  const device = { os: "android", osVersion: "6", appVersion: "2.16", model: "bench" };
  const registered = await call<{ accountId: string; credential: string }>("account.register", { sessionId, code, device });
  return { accountId: registered.accountId, credential: registered.credential, nextId: 2, acks: [] };
}

async function pool<T>(n: number, concurrency: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await make(i);
      }
    }),
  );
  return out;
}

const latencies: number[] = [];
let received = 0;
let sent = 0;
let sendErrors = 0;
let duplicates = 0;
let measuring = false;
/** Content prefixes (send time + sequence) of messages sent and not yet received: what would be dropped. */
const outstanding = new Set<string>();
let sequence = 0;

function connect(client: Client, index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // Spread over loopback addresses: one source address has only ~28k ephemeral ports.
    const ws = new WebSocket(`${wsUrls[index % wsUrls.length]!}?connectionParams=1`, { localAddress: `127.0.0.${1 + (index % 8)}`, perMessageDeflate: false });
    client.ws = ws;
    ws.once("error", reject);
    ws.on("open", () => {
      ws.send(JSON.stringify({ method: "connectionParams", data: { token: client.credential } }));
      ws.send(JSON.stringify({ id: 1, method: "subscription", params: { path: "inbox.stream", input: {} } }));
    });
    ws.on("message", (raw) => {
      const text = raw.toString();
      if (text === "PING") return void ws.send("PONG");
      const frame = JSON.parse(text) as { id: number; result?: { type: string; id?: string; data?: { data: { type: number; content: string } } }; error?: unknown };
      if (frame.id === 1 && frame.result?.type === "started") return resolve();
      if (frame.id === 1 && frame.result?.type === "data") {
        const envelope = frame.result.data!.data;
        client.acks.push(frame.result.id!);
        if (envelope.type === 1) {
          const content = Buffer.from(envelope.content, "base64");
          const key = content.toString("hex", 0, 12);
          if (!outstanding.delete(key)) {
            duplicates++;
            return;
          }
          received++;
          if (measuring) latencies.push(Date.now() - content.readDoubleBE(0));
        }
        return;
      }
      if (frame.error) {
        if (frame.id === 1) reject(new Error(JSON.stringify(frame.error)));
        else sendErrors++;
      }
    });
  });
}

function flushAcks(clients: Client[]) {
  for (const c of clients) {
    if (c.acks.length === 0 || c.ws?.readyState !== WebSocket.OPEN) continue;
    const ids = c.acks.splice(0, 1000);
    c.ws.send(JSON.stringify({ id: c.nextId++, method: "mutation", params: { path: "inbox.ack", input: { ids } } }));
  }
}

function sendOne(clients: Client[]) {
  const from = clients[Math.floor(Math.random() * clients.length)]!;
  let to = clients[Math.floor(Math.random() * clients.length)]!;
  if (to === from) to = clients[(clients.indexOf(from) + 1) % clients.length]!;
  const content = randomBytes(100);
  content.writeDoubleBE(Date.now(), 0);
  content.writeUInt32BE(sequence++, 8);
  outstanding.add(content.toString("hex", 0, 12));
  from.ws!.send(
    JSON.stringify({
      id: from.nextId++,
      method: "mutation",
      params: { path: "message.send", input: { messageId: randomUUID(), recipient: { accountId: to.accountId }, type: 1, content: content.toString("base64") } },
    }),
  );
  sent++;
}

const started = Date.now();
// Idle connections may share devices (registering tens of thousands of accounts would
// dominate the run); each connection still authenticates and holds its own subscription.
const accounts = await pool(mode === "idle" ? Math.min(count, 1000) : count, 64, register);
const clients: Client[] = Array.from({ length: count }, (_, i) => ({ ...accounts[i % accounts.length]!, nextId: 2, acks: [] }));
say({ phase: "registered", clients: clients.length, seconds: (Date.now() - started) / 1000 });
await pool(count, 256, (i) => connect(clients[i]!, i));
say({ phase: "connected", clients: clients.length, seconds: (Date.now() - started) / 1000 });

if (mode === "idle") {
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (line.trim() === "stop") {
      for (const c of clients) c.ws?.terminate();
      process.exit(0);
    }
  });
} else {
  const ackTimer = setInterval(() => flushAcks(clients), 50);
  // Warm up for a second, then measure for SECONDS at RATE (open loop, 1 ms ticks).
  const warmupMs = 1000;
  const begin = performance.now();
  let due = 0;
  let measuredFrom = 0;
  let receivedAtStart = 0;
  let cpuAtStart = process.cpuUsage();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = performance.now() - begin;
      if (!measuring && elapsed >= warmupMs) {
        measuring = true;
        measuredFrom = performance.now();
        receivedAtStart = received;
        cpuAtStart = process.cpuUsage();
        say({ phase: "window-start" });
      }
      if (elapsed >= warmupMs + seconds * 1000) {
        clearInterval(tick);
        resolve();
        return;
      }
      const target = Math.floor((elapsed / 1000) * rate);
      for (; due < target; due++) sendOne(clients);
    }, 1);
  });
  const measuredSeconds = (performance.now() - measuredFrom) / 1000;
  const deliveredInWindow = received - receivedAtStart;
  const cpu = process.cpuUsage(cpuAtStart);
  say({ phase: "window-end", deliveredInWindow });
  measuring = false;
  // Let in-flight deliveries land (not counted in the rate): until every send is received or 10 s pass.
  const drainUntil = Date.now() + 10_000;
  while (outstanding.size > sendErrors && Date.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 100));
  clearInterval(ackTimer);
  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? null;
  say({
    phase: "done",
    sent,
    received,
    sendErrors,
    dropped: Math.max(0, outstanding.size - sendErrors),
    duplicates,
    deliveredInWindow,
    measuredSeconds,
    // The generator's own CPU over the window, in cores (1.0 = one core busy: it is the bottleneck).
    clientCores: (cpu.user + cpu.system) / 1e6 / measuredSeconds,
    deliveredPerSecond: deliveredInWindow / measuredSeconds,
    p50: p(0.5),
    p99: p(0.99),
    max: latencies.at(-1) ?? null,
    samples: latencies.length,
  });
  for (const c of clients) c.ws?.terminate();
  process.exit(0);
}
