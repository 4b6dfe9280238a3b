/**
 * CPU and memory of processes on this machine, read from /proc (Linux): what the
 * benches print beside their headline figures, so a figure says who had the machine.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

/** CPU seconds (user + system) a process has used so far. */
export async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/**
 * CPU seconds a PostgreSQL server has used so far: the postmaster, its live processes
 * (backends, WAL writer, checkpointer, …) and the ones it has already reaped (autovacuum
 * workers come and go), found by the pid in its data folder.
 */
export async function postgresCpuSeconds(dataDir: string): Promise<number> {
  const pid = Number((await readFile(path.join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0]);
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
  let total = (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100; // utime, stime, cutime, cstime
  const children = (await readFile(`/proc/${pid}/task/${pid}/children`, "utf8")).trim().split(/\s+/).filter(Boolean);
  for (const child of children) total += await cpuSeconds(Number(child)).catch(() => 0); // gone since: counted in cutime
  return total;
}

/** Resident memory of a process, in bytes. */
export async function rssOf(pid: number): Promise<number> {
  return Number((await readFile(`/proc/${pid}/status`, "utf8")).match(/VmRSS:\s+(\d+)/)![1]) * 1024;
}

/** Busy and total jiffies of the whole machine. */
export async function machineTicks(): Promise<{ busy: number; total: number }> {
  const f = (await readFile("/proc/stat", "utf8")).split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}

/** Read and write system calls and context switches of a process so far (/proc/PID/io and status). */
export interface KernelCounts {
  reads: number;
  writes: number;
  /** Blocked waiting (an idle event loop sleeping in epoll_wait, for example). */
  voluntarySwitches: number;
  /** Preempted while runnable: the machine had more runnable work than CPUs. */
  involuntarySwitches: number;
}

export async function kernelCounts(pid: number): Promise<KernelCounts> {
  const [io, status] = await Promise.all([readFile(`/proc/${pid}/io`, "utf8"), readFile(`/proc/${pid}/status`, "utf8")]);
  const field = (text: string, name: string) => Number(text.match(new RegExp(`^${name}:\\s+(\\d+)`, "m"))?.[1] ?? NaN);
  return {
    reads: field(io, "syscr"),
    writes: field(io, "syscw"),
    voluntarySwitches: field(status, "voluntary_ctxt_switches"),
    involuntarySwitches: field(status, "nonvoluntary_ctxt_switches"),
  };
}

/** `b - a`, field by field, summed over processes. */
export function kernelCountsBetween(a: KernelCounts[], b: KernelCounts[]): KernelCounts {
  const sum = (pick: (k: KernelCounts) => number) => b.reduce((s, k, i) => s + pick(k) - pick(a[i]!), 0);
  return {
    reads: sum((k) => k.reads),
    writes: sum((k) => k.writes),
    voluntarySwitches: sum((k) => k.voluntarySwitches),
    involuntarySwitches: sum((k) => k.involuntarySwitches),
  };
}
