/** Finding k6 and the arguments every run uses. */
import { spawnSync } from "node:child_process";
import { env } from "../env";

export const INSTALL_K6 = `k6 is not installed (or not on PATH). Install k6 1.x, then rerun:
  Debian/Ubuntu: https://grafana.com/docs/k6/latest/set-up/install-k6/ (apt repository dl.k6.io)
  macOS:         brew install k6
  any OS:        a release binary from https://github.com/grafana/k6/releases
or point K6=/path/to/k6 at a binary. (k6 is not an npm package; the npm "k6" is a stub.)`;

export class K6Missing extends Error {
  constructor() {
    super(INSTALL_K6);
  }
}

/** The k6 binary to run, or throws K6Missing with install instructions. */
export function findK6(): string {
  const binary = env.K6 ?? "k6";
  const probe = spawnSync(binary, ["version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) throw new K6Missing();
  return binary;
}

export function k6Args(script: string, outDir: string, vars: Record<string, string>): string[] {
  return [
    "run",
    // Nothing may leave the machine.
    "--no-usage-report",
    "--summary-export",
    `${outDir}/summary.json`,
    "--summary-trend-stats",
    "avg,min,med,max,p(90),p(95),p(99)",
    "--out",
    `json=${outDir}/metrics.json.gz`,
    ...Object.entries(vars).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    script,
  ];
}
