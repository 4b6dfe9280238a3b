/**
 * This machine's socket limits, as defaults for `plan` and `run` (a generator
 * elsewhere passes its own with --open-files / --ports-per-address).
 */
import { readFileSync } from "node:fs";
import { DEFAULT_PORTS_PER_ADDRESS } from "../model/generators";

/** The hard "Max open files" of this process (what k6 started from here could raise its soft limit to). */
export function hardOpenFiles(): number {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
    const hard = line?.trim().split(/\s{2,}/)[2];
    return hard && /^\d+$/.test(hard) ? Number(hard) : 1_048_576;
  } catch {
    return 1_048_576;
  }
}

/** Ports in net.ipv4.ip_local_port_range. */
export function ephemeralPorts(): number {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    return low && high && high >= low ? high - low + 1 : DEFAULT_PORTS_PER_ADDRESS;
  } catch {
    return DEFAULT_PORTS_PER_ADDRESS;
  }
}
