/**
 * Reads the `.cpuprofile` files that `node --cpu-prof` writes and prints where the
 * CPU went: self time per function (name, file:line), summed over the files given.
 * Used by `pnpm bench relay --profile`; open the files themselves in Chrome DevTools
 * or speedscope for the call tree.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  share: number;
}

/** Self time per function over the given profiles, largest first. */
export async function selfTimes(files: string[]): Promise<{ totalMs: number; idleMs: number; rows: SelfTime[] }> {
  const byFunction = new Map<string, { name: string; where: string; ms: number }>();
  let totalMs = 0;
  let idleMs = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(file, "utf8")) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      const node = byId.get(samples[i]!);
      if (!node) continue;
      // Each delta is the time before sample i; attribute it to that sample (µs → ms).
      const ms = Math.max(0, deltas[i] ?? 0) / 1000;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === "(idle)" || functionName === "(program)") {
        if (functionName === "(idle)") idleMs += ms;
        else totalMs += ms;
        if (functionName === "(idle)") continue;
      } else totalMs += ms;
      const where = url ? `${shorten(url)}:${lineNumber + 1}` : "";
      const key = `${functionName}@${where}`;
      const row = byFunction.get(key) ?? { name: functionName || "(anonymous)", where, ms: 0 };
      row.ms += ms;
      byFunction.set(key, row);
    }
  }
  const rows = [...byFunction.values()]
    .sort((a, b) => b.ms - a.ms)
    .map((r) => ({ ...r, share: totalMs > 0 ? r.ms / totalMs : 0 }));
  return { totalMs, idleMs, rows };
}

/** `file:///…/node_modules/.pnpm/ws@8.23.0/node_modules/ws/lib/sender.js` → `ws/lib/sender.js`. */
function shorten(url: string): string {
  const p = url.replace(/^file:\/\//, "");
  const nm = p.lastIndexOf("/node_modules/");
  if (nm >= 0) return p.slice(nm + "/node_modules/".length);
  const parts = p.split(path.sep);
  return parts.slice(-3).join("/");
}

export function printSelfTimes(label: string, result: Awaited<ReturnType<typeof selfTimes>>, top = 25): void {
  console.log(`\n  CPU profile, ${label}: ${(result.totalMs / 1000).toFixed(1)} s busy, ${(result.idleMs / 1000).toFixed(1)} s idle; top self time:`);
  for (const row of result.rows.slice(0, top)) {
    console.log(`    ${(row.share * 100).toFixed(1).padStart(5)}%  ${row.ms.toFixed(0).padStart(7)} ms  ${row.name}  ${row.where}`);
  }
}

interface HeapSamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapSamplingNode[];
}

/** Bytes allocated per function (where the allocation happened) over `.heapprofile` files, largest first. */
export async function allocationSites(files: string[]): Promise<{ totalBytes: number; rows: { name: string; where: string; bytes: number }[] }> {
  const byFunction = new Map<string, { name: string; where: string; bytes: number }>();
  let totalBytes = 0;
  const visit = (node: HeapSamplingNode) => {
    totalBytes += node.selfSize;
    if (node.selfSize > 0) {
      const { functionName, url, lineNumber } = node.callFrame;
      const where = url ? `${shorten(url)}:${lineNumber + 1}` : "";
      const key = `${functionName}@${where}`;
      const row = byFunction.get(key) ?? { name: functionName || "(anonymous)", where, bytes: 0 };
      row.bytes += node.selfSize;
      byFunction.set(key, row);
    }
    for (const child of node.children) visit(child);
  };
  for (const file of files) visit((JSON.parse(await readFile(file, "utf8")) as { head: HeapSamplingNode }).head);
  return { totalBytes, rows: [...byFunction.values()].sort((a, b) => b.bytes - a.bytes) };
}

/**
 * Prints bytes allocated per delivered message and the top allocation sites. V8 charges an
 * inlined callee's allocations to the function it was inlined into, so a site is "this
 * function or what the optimizer inlined into it".
 */
export function printAllocationSites(label: string, result: Awaited<ReturnType<typeof allocationSites>>, delivered: number, top = 20): void {
  const perMessage = delivered > 0 ? `${(result.totalBytes / delivered / 1024).toFixed(1)} KB per delivered message` : "nothing delivered";
  console.log(`\n  Allocations, ${label}: ${(result.totalBytes / 1024 / 1024).toFixed(0)} MB over the window, ${perMessage}; top sites:`);
  for (const row of result.rows.slice(0, top)) {
    const share = result.totalBytes > 0 ? (row.bytes / result.totalBytes) * 100 : 0;
    const perMsg = delivered > 0 ? `${(row.bytes / delivered).toFixed(0).padStart(6)} B/msg` : "";
    console.log(`    ${share.toFixed(1).padStart(5)}%  ${perMsg}  ${row.name}  ${row.where}`);
  }
}
