/**
 * Event-loop and GC figures of a bench server process (imported by relay-server.ts):
 * on stdin "stats" it prints what happened since the last "stats" — event-loop delay
 * p50/p99/max, the number of GC pauses and their total and longest, by kind — so a
 * slow probe can be told apart: a stalled loop (GC, a connection storm, a timer
 * burst) or a slow path elsewhere (database, bus).
 */
import { constants, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { createInterface } from "node:readline";

/** What a "stats" line carries (the benches read it). */
export interface ServerStats {
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  gc: Record<string, { count: number; totalMs: number; maxMs: number }>;
}

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const kinds: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
};
let gc: ServerStats["gc"] = {};
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = kinds[((entry as { detail?: { kind?: number } }).detail)?.kind ?? -1] ?? "other";
    const g = (gc[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
    g.count += 1;
    g.totalMs += entry.duration;
    g.maxMs = Math.max(g.maxMs, entry.duration);
  }
}).observe({ entryTypes: ["gc"] });

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() !== "stats") return;
  const ms = (ns: number) => Math.round(ns / 1e5) / 10;
  const stats: ServerStats = { loopP50Ms: ms(loop.percentile(50)), loopP99Ms: ms(loop.percentile(99)), loopMaxMs: ms(loop.max), gc };
  console.log(JSON.stringify({ stats }));
  loop.reset();
  gc = {};
});
