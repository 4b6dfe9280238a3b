/**
 * One client process of `pnpm bench relay --idle N --nodes K`: holds its share of
 * seeded devices connected and subscribed (tRPC's ws protocol, as k6 speaks it),
 * spread over the server ports and over source addresses 127.0.0.<a> so no
 * (source, destination) pair runs out of ephemeral ports. Answers the server's
 * keep-alive PINGs. Stdin: "reset" forgets the latencies measured so far (the warm-up's); "report" prints the delivery latencies it measured
 * (the first 8 bytes of a probe's content are its send time); "stop" exits.
 * Prints JSON lines for the orchestrator (bench/relay-idle.ts).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { benchCredential } from "./relay-idle-devices";
import { env } from "../src/env";

interface Config {
  /** Device indices [from, from + count). */
  from: number;
  count: number;
  ports: number[];
  /** Source addresses 127.0.0.<first> … 127.0.0.<first + addresses - 1>. */
  firstAddress: number;
  addresses: number;
  concurrency: number;
  /** Stop opening new connections after this many seconds and hold what is open. */
  connectSeconds: number;
}

const config = JSON.parse(process.argv[2] ?? "{}") as Config;
const say = (o: unknown) => console.log(JSON.stringify(o));
const latencies: number[] = [];
const sockets: WebSocket[] = [];
let dropped = 0;
const subscribe = env.HANDSHAKE_BENCH_IDLE_NO_SUBSCRIBE !== "1";

function connect(index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const port = config.ports[index % config.ports.length]!;
    const localAddress = `127.0.0.${config.firstAddress + (index % config.addresses)}`;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/trpc?connectionParams=1`, { localAddress, perMessageDeflate: false });
    let started = false;
    ws.once("error", (error) => (started ? undefined : reject(error)));
    ws.on("open", () => {
      ws.send(JSON.stringify({ method: "connectionParams", data: { token: benchCredential(index) } }));
      if (!subscribe) {
        // Diagnostic (HANDSHAKE_BENCH_IDLE_NO_SUBSCRIBE=1): a connection without its stream,
        // to tell what the socket and tRPC's connection cost from what the subscription costs.
        started = true;
        sockets.push(ws);
        return void setTimeout(resolve, 20);
      }
      ws.send(JSON.stringify({ id: 1, method: "subscription", params: { path: "inbox.stream", input: {} } }));
    });
    ws.on("close", () => {
      if (started) dropped += 1;
    });
    ws.on("message", (raw) => {
      const text = raw.toString();
      if (text === "PING") return void ws.send("PONG");
      const frame = JSON.parse(text) as { id: number; result?: { type: string; data?: { data: { content: string } } }; error?: unknown };
      if (frame.id !== 1) return;
      if (frame.result?.type === "started") {
        started = true;
        sockets.push(ws);
        resolve();
      } else if (frame.result?.type === "data") {
        const content = Buffer.from(frame.result.data!.data.content, "base64");
        if (content.length >= 8) latencies.push(Date.now() - content.readDoubleBE(0));
      } else if (frame.error && !started) {
        reject(new Error(JSON.stringify(frame.error)));
      }
    });
  });
}

const begin = performance.now();
let next = 0;
const progress = setInterval(() => say({ phase: "progress", connected: sockets.length }), 30_000);
let failed = 0;
let firstError: string | null = null;
await Promise.all(
  Array.from({ length: config.concurrency }, async () => {
    const deadline = begin + config.connectSeconds * 1000;
    while (next < config.count && performance.now() < deadline) {
      const index = config.from + next++;
      // One retry: a busy 2-core machine sometimes refuses a burst of connects.
      try {
        await connect(index);
      } catch {
        try {
          await connect(index);
        } catch (error) {
          failed += 1;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    }
  }),
);
say({ phase: "connected", connected: sockets.length, failed, firstError, notTried: config.count - Math.min(next, config.count), seconds: (performance.now() - begin) / 1000 });
clearInterval(progress);
// The event loop's delay from here on (the probes): a stalled client inflates what it measures.
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

createInterface({ input: process.stdin }).on("line", (line) => {
  const command = line.trim();
  if (command === "report") say({ phase: "report", latencies, dropped, open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length, loopMaxMs: loop.max / 1e6 });
  if (command === "reset") {
    latencies.length = 0;
    say({ phase: "reset" });
  }
  if (command === "stop") {
    for (const socket of sockets) socket.terminate();
    process.exit(0);
  }
});
