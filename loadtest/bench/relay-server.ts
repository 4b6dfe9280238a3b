/**
 * The messenger under benchmark, in its own process: rate limits off, logs silent,
 * 127.0.0.1 only. Prints one JSON line with its URL; on stdin "mem" it collects
 * garbage and prints its memory; SIGTERM closes it. With a NATS URL (and a node
 * id) it joins the other nodes' bus, as a node of `--nodes K` does.
 */
import { createInterface } from "node:readline";
import { writeHeapSnapshot } from "node:v8";
import { createLogger } from "@handshake/messenger/log";
import { createMessengerServer } from "@handshake/messenger/server";
import "./relay-server-stats";
import { env } from "../src/env";

const [databaseUrl, natsUrl, nodeId] = process.argv.slice(2);
if (!databaseUrl) throw new Error("usage: relay-server.ts <database url> [nats url] [node id]");

const server = await createMessengerServer({
  databaseUrl,
  logger: createLogger({ level: "silent" }),
  rateLimits: false,
  poolSize: natsUrl ? 6 : 10,
  // HANDSHAKE_BENCH_KEEPALIVE=trpc: tRPC's per-socket keep-alive timers (the idle bench's "before").
  ...(env.HANDSHAKE_BENCH_KEEPALIVE === "trpc" ? { relay: { keepAlive: { trpcPerSocket: true } } } : {}),
  ...(natsUrl ? { nats: { url: natsUrl, nodeId: nodeId ?? `bench-${process.pid}` } } : {}),
});
const { url, wsUrl } = await server.listen(0, "127.0.0.1");
console.log(JSON.stringify({ ready: true, url, wsUrl, pid: process.pid }));

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim().startsWith("snapshot ")) {
    (globalThis as { gc?: () => void }).gc?.();
    writeHeapSnapshot(line.trim().slice("snapshot ".length));
    console.log(JSON.stringify({ snapshot: true }));
    return;
  }
  if (line.trim() !== "mem") return;
  (globalThis as { gc?: () => void }).gc?.();
  // V8 hands the pages a collection freed back to the system from a background thread:
  // RSS read at once can still count tens of MB of them (a synthetic check here: 160 MB
  // right after gc(), 119 MB a second later, the live heap unchanged), which made "RSS per
  // connection" vary by several KB between runs of the same code. Read it once they are gone.
  setTimeout(() => {
    const m = process.memoryUsage();
    console.log(JSON.stringify({ mem: { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers } }));
  }, 1000);
});

process.once("SIGTERM", () => {
  void server.close().then(() => process.exit(0));
});
