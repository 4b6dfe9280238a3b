#!/usr/bin/env node
// `pnpm bench <name> [args]`: runs a benchmark by name. Each entry is a workspace
// script; benchmarks print their own tables. Not part of `pnpm check`.
import { spawnSync } from "node:child_process";

const benches = {
  population: { filter: "@handshake/population", script: "bench", what: "users generated per second per core" },
  seed: { filter: "@handshake/seed", script: "bench", what: "rows per second seeded into PostgreSQL with COPY" },
  gains: { filter: "@handshake/seed", script: "bench:gains", what: "what Facebook gains from WhatsApp's data on a seeded shard, and loses to opt-outs and regulators" },
  crypto: { filter: "@handshake/crypto", script: "bench", what: "libsignal costs: key verification, sessions, encrypt/decrypt" },
  relay: { filter: "@handshake/loadtest", script: "bench:relay", what: "WebSocket clients through the real messenger: messages/s, latency, memory" },
  loopback: { filter: "@handshake/loadtest", script: "bench:loopback", what: "the machine's floor: CPU per frame of a bare Node TCP echo over 127.0.0.1" },
  caches: { filter: "@handshake/loadtest", script: "bench:caches", what: "a miss of the messenger's consent and restriction caches: CPU per load" },
  queue: { filter: "@handshake/loadtest", script: "bench:queue", what: "the queue writer alone against PostgreSQL: CPU per message, by batch size" },
  observability: { filter: "@handshake/loadtest", script: "bench:observability", what: "what /metrics and tracing cost: queue depth read, scrape, shipping with tracing on/off" },
  faults: { filter: "@handshake/faults", script: "bench", what: "the fault suite's full form: more load, Facebook down 20 s; loss, duplicates, consent, memory" },
};

const [name, ...rest] = process.argv.slice(2);
if (!name || !benches[name]) {
  console.log("usage: pnpm bench <name> [options]\n");
  for (const [key, bench] of Object.entries(benches)) console.log(`  ${key.padEnd(11)} ${bench.what}`);
  process.exit(name ? 2 : 0);
}
const bench = benches[name];
const run = spawnSync("pnpm", ["--silent", "--filter", bench.filter, "run", bench.script, ...rest], { stdio: "inherit" });
process.exit(run.status ?? 1);
