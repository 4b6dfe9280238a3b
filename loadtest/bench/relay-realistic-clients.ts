/**
 * One client process of `pnpm bench relay --realistic`: its devices are the seeded
 * indices i < N with i % processes === index. Each is a subscribed WebSocket (tRPC's
 * ws protocol) that acks what it receives and resumes after its last envelope when
 * it reconnects; it sends over HTTP with its own credential. Open loop: sends and
 * reconnects arrive as Poisson processes at the rates the orchestrator passes (the
 * workload model's, per connected device), whatever the server answers.
 *
 * Stdin, one JSON line each:
 *   {"cmd":"connect","upTo":N}  connect own devices below N (the step's size)
 *   {"cmd":"warmup","sends":n, ...RunSpec}  n unmeasured sends (the servers' cold start)
 *   {"cmd":"run", ...RunSpec}   drive one step, then report {"phase":"step", ...}
 *   {"cmd":"stop"}              close everything and exit
 * A message's content carries its send time (8 bytes) and step number (4 bytes):
 * the recipient's process measures delivery latency and counts per step.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { benchAccountId, benchCredential } from "./relay-idle-devices";

interface Config {
  index: number;
  processes: number;
  ports: number[];
  /** Source addresses 127.0.0.<first> … for the WebSockets (ephemeral ports per address). */
  firstAddress: number;
  addresses: number;
  concurrency: number;
}

interface RunSpec {
  step: number;
  seconds: number;
  /** Connected devices in the step (indices 0 … devices-1), all processes together. */
  devices: number;
  sendsPerDevicePerSecond: number;
  reconnectsPerDevicePerSecond: number;
  /** Share of sends to connected devices; the rest go to never-connected stub devices. */
  deliveredShare: number;
  stubFrom: number;
  stubCount: number;
  /** Wait this long after the last send before reporting. */
  settleSeconds: number;
}

const config = JSON.parse(process.argv[2] ?? "{}") as Config;
const say = (o: unknown) => console.log(JSON.stringify(o));

class Device {
  ws: WebSocket | null = null;
  started = false;
  lastId: string | null = null;
  callId = 1;
  constructor(readonly index: number) {}
}

const devices = new Map<number, Device>();
/** Devices whose subscription is running (senders and reconnect victims are drawn from these). */
const live: Device[] = [];
const stats = newStats();
function newStats() {
  return {
    latencies: [] as number[],
    /** Received messages per step number (unique by message id). */
    receivedByStep: new Map<number, number>(),
    seen: new Set<string>(),
    duplicates: 0,
    sentLive: 0,
    sentStub: 0,
    sendErrors: 0,
    firstSendError: null as string | null,
    reconnects: 0,
    reconnectFailures: 0,
    reconnectLatencies: [] as number[],
    dropped: 0,
    ackErrors: 0,
    /** How late arrivals started after their scheduled time (generator lag). */
    lateness: [] as number[],
    /** How long message.send took to answer (stored, published). */
    sendDurations: [] as number[],
  };
}
let current = stats;

function removeLive(device: Device) {
  const at = live.indexOf(device);
  if (at >= 0) {
    live[at] = live[live.length - 1]!;
    live.pop();
  }
}

function subscribe(device: Device): Promise<void> {
  return new Promise((resolve, reject) => {
    const port = config.ports[device.index % config.ports.length]!;
    const localAddress = `127.0.0.${config.firstAddress + (device.index % config.addresses)}`;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/trpc?connectionParams=1`, { localAddress, perMessageDeflate: false });
    device.ws = ws;
    device.started = false;
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    const timer = setTimeout(() => {
      fail(new Error("subscription not started within 10 s"));
      ws.terminate();
    }, 10_000);
    ws.once("error", (error) => fail(error));
    ws.on("open", () => {
      ws.send(JSON.stringify({ method: "connectionParams", data: { token: benchCredential(device.index) } }));
      ws.send(JSON.stringify({ id: 1, method: "subscription", params: { path: "inbox.stream", input: device.lastId ? { lastEventId: device.lastId } : {} } }));
    });
    ws.on("close", () => {
      clearTimeout(timer);
      if (device.ws !== ws) return; // replaced by a reconnect
      if (device.started) current.dropped += 1;
      device.started = false;
      removeLive(device);
      fail(new Error("closed before the subscription started"));
    });
    ws.on("message", (raw) => {
      const text = raw.toString();
      if (text === "PING") return void ws.send("PONG");
      const frame = JSON.parse(text) as { id: number; result?: { type: string; data?: { id: string; data: { messageId: string; content: string } } }; error?: unknown };
      if (frame.id !== 1) {
        if (frame.error) current.ackErrors += 1;
        return;
      }
      if (frame.result?.type === "started") {
        clearTimeout(timer);
        device.started = true;
        live.push(device);
        settled = true;
        resolve();
      } else if (frame.result?.type === "data") {
        const { id, data } = frame.result.data!;
        device.lastId = id;
        ws.send(JSON.stringify({ id: ++device.callId, method: "mutation", params: { path: "inbox.ack", input: { ids: [id] } } }));
        if (!data.content) return; // a delivery receipt
        const content = Buffer.from(data.content, "base64");
        if (content.length < 12) return;
        if (current.seen.has(data.messageId)) {
          current.duplicates += 1;
          return;
        }
        current.seen.add(data.messageId);
        const step = content.readUInt32BE(8);
        current.receivedByStep.set(step, (current.receivedByStep.get(step) ?? 0) + 1);
        current.latencies.push(Date.now() - content.readDoubleBE(0));
      } else if (frame.error) {
        clearTimeout(timer);
        fail(new Error(JSON.stringify(frame.error)));
      }
    });
  });
}

async function connectUpTo(upTo: number) {
  const mine: number[] = [];
  for (let i = config.index; i < upTo; i += config.processes) if (!devices.has(i)) mine.push(i);
  const begin = performance.now();
  let next = 0;
  let failed = 0;
  let firstError: string | null = null;
  await Promise.all(
    Array.from({ length: config.concurrency }, async () => {
      while (next < mine.length) {
        const device = new Device(mine[next++]!);
        devices.set(device.index, device);
        try {
          await subscribe(device);
        } catch {
          try {
            await subscribe(device); // one retry: a burst of connects on a busy machine
          } catch (error) {
            failed += 1;
            firstError ??= error instanceof Error ? error.message : String(error);
          }
        }
      }
    }),
  );
  say({ phase: "connected", connected: live.length, failed, firstError, seconds: (performance.now() - begin) / 1000 });
}

/** Exponential gaps: a Poisson process at `rate` per second. */
const gap = (rate: number) => (-Math.log(1 - Math.random()) / rate) * 1000;

async function send(step: number, spec: RunSpec) {
  const sender = live[Math.floor(Math.random() * live.length)];
  if (!sender) return;
  const toLive = Math.random() < spec.deliveredShare;
  const recipient = toLive ? Math.floor(Math.random() * spec.devices) : spec.stubFrom + Math.floor(Math.random() * spec.stubCount);
  const content = Buffer.alloc(64 + Math.floor(Math.random() * 96));
  content.writeDoubleBE(Date.now(), 0);
  content.writeUInt32BE(step, 8);
  const port = config.ports[Math.floor(Math.random() * config.ports.length)]!;
  const begin = performance.now();
  try {
    const response = await fetch(`http://127.0.0.1:${port}/trpc/message.send`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${benchCredential(sender.index)}` },
      body: JSON.stringify({ messageId: crypto.randomUUID(), recipient: { accountId: benchAccountId(recipient) }, type: 1, content: content.toString("base64") }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) {
      current.sendErrors += 1;
      current.firstSendError ??= `${response.status} ${(await response.text()).slice(0, 200)}`;
      return;
    }
    await response.arrayBuffer();
    current.sendDurations.push(performance.now() - begin);
    if (toLive) current.sentLive += 1;
    else current.sentStub += 1;
  } catch (error) {
    current.sendErrors += 1;
    current.firstSendError ??= error instanceof Error ? error.message : String(error);
  }
}

async function reconnect() {
  const device = live[Math.floor(Math.random() * live.length)];
  if (!device) return;
  removeLive(device);
  const old = device.ws;
  device.ws = null; // its close is not a drop
  device.started = false;
  old?.close();
  const begin = performance.now();
  current.reconnects += 1;
  try {
    await subscribe(device);
    current.reconnectLatencies.push(performance.now() - begin);
  } catch {
    current.reconnectFailures += 1;
  }
}

/** Runs `fire` as a Poisson process at `rate`/s for `ms`; records how late each arrival started. */
async function poisson(rate: number, ms: number, fire: () => Promise<void>, inFlight: Promise<void>[]) {
  if (!(rate > 0)) return;
  const begin = performance.now();
  let due = begin + gap(rate);
  while (due < begin + ms) {
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    current.lateness.push(Math.max(0, performance.now() - due));
    inFlight.push(fire());
    due += gap(rate);
  }
}

async function run(spec: RunSpec) {
  current = newStats();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const ms = spec.seconds * 1000;
  // Rates are per connected device; this process holds its share of them.
  const held = live.length;
  const inFlight: Promise<void>[] = [];
  await Promise.all([
    poisson(held * spec.sendsPerDevicePerSecond, ms, () => send(spec.step, spec), inFlight),
    poisson(held * spec.reconnectsPerDevicePerSecond, ms, reconnect, inFlight),
  ]);
  await Promise.all(inFlight);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - wall0;
  loop.disable();
  await new Promise((resolve) => setTimeout(resolve, spec.settleSeconds * 1000));
  const s = current;
  say({
    phase: "step",
    step: spec.step,
    held,
    open: live.length,
    latencies: s.latencies,
    receivedByStep: Object.fromEntries(s.receivedByStep),
    duplicates: s.duplicates,
    sentLive: s.sentLive,
    sentStub: s.sentStub,
    sendErrors: s.sendErrors,
    firstSendError: s.firstSendError,
    reconnects: s.reconnects,
    reconnectFailures: s.reconnectFailures,
    reconnectLatencies: s.reconnectLatencies,
    dropped: s.dropped,
    ackErrors: s.ackErrors,
    lateness: s.lateness,
    sendDurations: s.sendDurations,
    /** Share of one core this process used while driving the step. */
    cpu: (cpu.user + cpu.system) / 1000 / wall,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
  });
}

/**
 * Unmeasured sends before the first step: a server's first requests are slow (JIT,
 * pool connections opening; ~0.7 s for the first here) and would be the p99 of a
 * step with a hundred samples. `run` starts its figures afresh.
 */
async function warmup(spec: RunSpec & { sends: number }) {
  const inFlight: Promise<void>[] = [];
  for (let k = 0; k < spec.sends; k++) {
    inFlight.push(send(0xffff_ffff, { ...spec, deliveredShare: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  await Promise.all(inFlight);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  say({ phase: "warm", errors: current.sendErrors });
}

say({ phase: "ready" });
let queue = Promise.resolve();
createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line) as { cmd: string } & Partial<RunSpec> & { upTo?: number };
  queue = queue.then(async () => {
    if (command.cmd === "connect") await connectUpTo(command.upTo!);
    else if (command.cmd === "run") await run(command as unknown as RunSpec);
    else if (command.cmd === "warmup") await warmup(command as unknown as RunSpec & { sends: number });
    else if (command.cmd === "stop") {
      for (const device of devices.values()) device.ws?.terminate();
      process.exit(0);
    }
  });
});
