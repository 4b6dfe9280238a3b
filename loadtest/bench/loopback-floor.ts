/**
 * `pnpm bench loopback`: the machine's floor under the relay bench. A bare Node TCP
 * server over 127.0.0.1 (its own process) reads 200-byte frames from N client sockets
 * and writes one 300-byte frame back for each, one write per frame, no WebSocket, JSON,
 * tRPC or database. Prints the server's CPU per frame and its system calls per frame:
 * what one read plus one write costs on this machine before any of the relay's work.
 * (The relay's servers make ~2 reads and ~2 writes per delivered message: `pnpm bench
 * relay` prints those counts.) 127.0.0.1 only; bounded in time.
 *
 *   pnpm bench loopback [--rates 5000,10000] [--connections 200] [--seconds 10]
 */
import { fork } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { cpuSeconds, kernelCounts, kernelCountsBetween } from "./process-cpu";

const FRAME = 200;
const REPLY = 300;

if (process.argv[2] === "--serve") {
  const reply = Buffer.alloc(REPLY, 1);
  const server = net.createServer({ noDelay: true }, (socket) => {
    let pending = 0;
    socket.on("data", (chunk) => {
      pending += chunk.length;
      for (; pending >= FRAME; pending -= FRAME) socket.write(reply);
    });
    socket.on("error", () => {});
  });
  server.listen(0, "127.0.0.1", () => process.send!({ port: (server.address() as net.AddressInfo).port }));
  process.on("disconnect", () => process.exit(0));
} else {
  const usage = "usage: pnpm bench loopback [--rates 5000,10000] [--connections 200] [--seconds 10]";
  let values;
  try {
    ({ values } = parseArgs({
      options: { rates: { type: "string", default: "5000,10000" }, connections: { type: "string", default: "200" }, seconds: { type: "string", default: "10" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const rates = values.rates.split(",").map(Number);
  const connections = Number(values.connections);
  const seconds = Number(values.seconds);
  if (rates.some((r) => !Number.isInteger(r) || r < 1 || r > 200_000) || !Number.isInteger(connections) || connections < 1 || connections > 5000 || !(seconds >= 1 && seconds <= 60)) {
    console.error(`--rates: integers 1..200000; --connections: 1..5000; --seconds: 1..60\n${usage}`);
    process.exit(2);
  }
  console.log(`loopback floor: ${connections} sockets, ${seconds} s per rate; one ${FRAME} B frame in, one ${REPLY} B frame out, one write each`);
  console.log(`  ${"frames/s".padStart(9)} ${"sent".padStart(8)} ${"answered".padStart(8)} ${"µs/frame".padStart(8)} ${"srvCPU".padStart(6)} ${"reads".padStart(6)} ${"writes".padStart(6)}  (server CPU and system calls per frame)`);
  for (const rate of rates) {
    const child = fork(fileURLToPath(import.meta.url), ["--serve"], { execArgv: process.execArgv });
    try {
      const { port } = await new Promise<{ port: number }>((resolve, reject) => {
        child.once("message", (m) => resolve(m as { port: number }));
        child.once("exit", (code) => reject(new Error(`the server exited (${code})`)));
      });
      let answered = 0;
      const sockets = await Promise.all(
        Array.from({ length: connections }, () => new Promise<net.Socket>((resolve, reject) => {
          const socket = net.connect({ port, host: "127.0.0.1", noDelay: true }, () => resolve(socket));
          socket.once("error", reject);
          socket.on("data", (chunk) => (answered += chunk.length / REPLY));
        })),
      );
      const frame = Buffer.alloc(FRAME, 2);
      const [cpu0, k0] = [await cpuSeconds(child.pid!), await kernelCounts(child.pid!)];
      const t0 = performance.now();
      let sent = 0;
      const answeredBefore = answered;
      const timer = setInterval(() => {
        const due = Math.floor(((performance.now() - t0) / 1000) * rate);
        while (sent < due) sockets[sent++ % connections]!.write(frame);
      }, 1);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      clearInterval(timer);
      await new Promise((resolve) => setTimeout(resolve, 200)); // the last replies
      const [cpu1, k1] = [await cpuSeconds(child.pid!), await kernelCounts(child.pid!)];
      const k = kernelCountsBetween([k0], [k1]);
      const got = Math.round(answered - answeredBefore);
      console.log(
        `  ${String(rate).padStart(9)} ${String(sent).padStart(8)} ${String(got).padStart(8)} ${(((cpu1 - cpu0) / sent) * 1e6).toFixed(1).padStart(8)} ${((cpu1 - cpu0) / seconds).toFixed(2).padStart(6)} ${(k.reads / sent).toFixed(2).padStart(6)} ${(k.writes / sent).toFixed(2).padStart(6)}`,
      );
      if (got < sent * 0.99) console.log(`    only ${got} of ${sent} frames answered: the server (or this generator) saturated; the figure above is not the floor`);
      for (const socket of sockets) socket.destroy();
    } finally {
      child.kill();
    }
  }
}
