/**
 * CPU of the k6 process while it runs, from /proc/<pid>/stat (utime + stime, in clock
 * ticks): the third sign of a saturated generator, besides k6's dropped_iterations and
 * the scripts' generator_loop_lag. Linux only; elsewhere it reports nothing.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/** USER_HZ: 100 on every Linux architecture k6 ships for (sysconf(_SC_CLK_TCK)). */
const TICKS_PER_SECOND = 100;

function cpuTicks(pid: number): number | null {
  try {
    // Fields after the command (which may hold spaces) start after the last ')'.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(")").at(-1)!.trim().split(/\s+/);
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  } catch {
    return null;
  }
}

/** Samples the process's CPU every second; stop() returns the peak cores used (null if never readable). */
export function sampleCpu(pid: number): { stop(): { peakCores: number; cores: number } | null } {
  let last = cpuTicks(pid);
  let lastAt = Date.now();
  let peak: number | null = null;
  const timer = setInterval(() => {
    const ticks = cpuTicks(pid);
    const now = Date.now();
    if (ticks !== null && last !== null && now > lastAt) peak = Math.max(peak ?? 0, (ticks - last) / TICKS_PER_SECOND / ((now - lastAt) / 1000));
    last = ticks;
    lastAt = now;
  }, 1000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return peak === null ? null : { peakCores: peak, cores: availableParallelism() };
    },
  };
}
