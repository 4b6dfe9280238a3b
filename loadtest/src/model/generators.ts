/**
 * How many load generators (k6 processes on their own machines) a run needs.
 *
 * A TCP connection is identified by (source ip, source port, destination ip, port):
 * towards the one messenger address, a generator gets at most one connection per
 * ephemeral port per source address (Linux: net.ipv4.ip_local_port_range, 32768-60999
 * by default = 28,232 ports). k6's `--local-ips` gives each VU one source address from
 * a pool (VU n uses address n-1 modulo the pool: k6 internal/js/runner.go, newVU), so
 * L addresses give ~L × the ports, provided the VUs spread over them. Every socket is
 * also an open file, capped per process by the hard `ulimit -n`. Whatever one process
 * cannot hold is split across k6 instances with execution segments.
 */

export interface GeneratorLimits {
  /** Source addresses the generator sends from (k6 --local-ips); 1 without it. */
  localIps: number;
  /** Ephemeral ports per source address (size of ip_local_port_range). */
  portsPerAddress: number;
  /** Open files one k6 process may hold (hard ulimit -n). */
  openFiles: number;
}

/** Sockets a run holds towards the messenger at once. */
export interface ConnectionDemand {
  /** WebSocket connections held by the holders (connected users). */
  websockets: number;
  /** HTTP connections: the most VUs that send at once, each with its own connection pool. */
  http: number;
}

export interface GeneratorPlan {
  demand: ConnectionDemand;
  limits: GeneratorLimits;
  /** Connections one generator can hold: the smaller of its ports and its open files. */
  perGenerator: number;
  /** What caps perGenerator. */
  limitedBy: "ephemeral ports" | "open files";
  needed: number;
}

/** Files k6 holds besides sockets (binary, libraries, fixture, outputs, logs), kept free. */
export const OPEN_FILES_HEADROOM = 256;
/** Linux's default net.ipv4.ip_local_port_range is 32768-60999. */
export const DEFAULT_PORTS_PER_ADDRESS = 60_999 - 32_768 + 1;

export function generatorPlan(demand: ConnectionDemand, limits: GeneratorLimits): GeneratorPlan {
  const byPorts = limits.localIps * limits.portsPerAddress;
  const byFiles = Math.max(0, limits.openFiles - OPEN_FILES_HEADROOM);
  const perGenerator = Math.min(byPorts, byFiles);
  const total = demand.websockets + demand.http;
  return {
    demand,
    limits,
    perGenerator,
    limitedBy: byPorts <= byFiles ? "ephemeral ports" : "open files",
    needed: perGenerator <= 0 ? Infinity : Math.max(1, Math.ceil(total / perGenerator)),
  };
}

/** k6's execution segments for n equal instances: `--execution-segment` of each and the shared sequence. */
export function executionSegments(n: number): { segments: string[]; sequence: string } {
  if (!Number.isInteger(n) || n < 1) throw new RangeError("--generators must be a positive integer");
  const at = (i: number) => (i === 0 ? "0" : i === n ? "1" : `${i}/${n}`);
  const segments = Array.from({ length: n }, (_, i) => `${at(i)}:${at(i + 1)}`);
  return { segments, sequence: Array.from({ length: n + 1 }, (_, i) => at(i)).join(",") };
}

/**
 * How many addresses a k6 `--local-ips` value names: ranges `a-b`, CIDRs `a/n` and
 * comma-separated lists of them (k6 lib/types IPPool syntax), IPv4 only here.
 */
export function countLocalIps(spec: string): number {
  const ip = (s: string) => {
    const parts = s.split(".").map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new RangeError(`--local-ips: "${s}" is not an IPv4 address`);
    return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
  };
  let total = 0;
  for (const part of spec.split(",").map((p) => p.trim()).filter(Boolean)) {
    if (part.includes("/")) {
      const [base, bits] = part.split("/");
      ip(base!);
      const n = Number(bits);
      if (!Number.isInteger(n) || n < 0 || n > 32) throw new RangeError(`--local-ips: bad prefix in "${part}"`);
      total += 2 ** (32 - n);
    } else if (part.includes("-")) {
      const [from, to] = part.split("-").map((s) => ip(s.trim()));
      if (to! < from!) throw new RangeError(`--local-ips: "${part}" ends before it starts`);
      total += to! - from! + 1;
    } else {
      ip(part);
      total += 1;
    }
  }
  if (total === 0) throw new RangeError("--local-ips names no address");
  return total;
}
