/**
 * Loaded into a bench server with `--import` (`pnpm bench relay --allocations`): on
 * stdin "alloc-start" it starts V8's sampling heap profiler, keeping the objects that
 * garbage collection has already freed (so the profile counts what was *allocated*, not
 * what is still alive); on "alloc-stop <file>" it stops, writes the profile there
 * (`.heapprofile`, opens in Chrome DevTools' Memory tab) and prints one JSON line with the
 * bytes allocated. It is a module of its own, not part of relay-server.ts, so the servers
 * of a `--baseline` run (older code) are sampled the same way.
 */
import { writeFile } from "node:fs/promises";
import type { HeapProfiler } from "node:inspector";
import { Session } from "node:inspector/promises";
import { createInterface } from "node:readline";

interface SamplingNode {
  selfSize: number;
  children: SamplingNode[];
}

const session = new Session();
session.connect();

function totalBytes(node: SamplingNode): number {
  return node.children.reduce((sum, child) => sum + totalBytes(child), node.selfSize);
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const [command, file] = line.trim().split(/\s+/);
  if (command === "alloc-start") {
    void session
      .post("HeapProfiler.startSampling", {
        // One sample per 16 KiB allocated on average (V8 scales each sample by its size).
        samplingInterval: 16 * 1024,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
        // Newer than @types/node's parameter type; Node 20's V8 takes them.
      } as HeapProfiler.StartSamplingParameterType)
      .catch((error: unknown) => console.log(JSON.stringify({ allocationsError: String(error) })));
  } else if (command === "alloc-stop" && file) {
    void (async () => {
      const { profile } = (await session.post("HeapProfiler.stopSampling")) as { profile: { head: SamplingNode } };
      await writeFile(file, JSON.stringify(profile));
      console.log(JSON.stringify({ allocations: { file, bytes: totalBytes(profile.head) } }));
    })().catch((error: unknown) => console.log(JSON.stringify({ allocationsError: String(error) })));
  }
});
