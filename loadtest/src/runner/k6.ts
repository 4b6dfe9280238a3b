/** Finding k6 (1.6 or later) and the arguments every run uses. */
import { spawnSync } from "node:child_process";
import { env } from "../env";

/**
 * The scripts import `k6/websockets`, a module k6 has from v1.6.0 on (v1.5 has only
 * `k6/experimental/websockets`, which 1.6+ keeps as a deprecated alias that warns:
 * grafana/k6 internal/js/jsmodules.go at v1.5.0 and v1.6.0).
 */
export const K6_MINIMUM = { major: 1, minor: 6 } as const;

export const INSTALL_K6 = `k6 ${K6_MINIMUM.major}.${K6_MINIMUM.minor} or later is not installed (or not on PATH). Install k6, then rerun:
  Debian/Ubuntu: https://grafana.com/docs/k6/latest/set-up/install-k6/ (apt repository dl.k6.io)
  macOS:         brew install k6
  any OS:        a release binary from https://github.com/grafana/k6/releases
or point K6=/path/to/k6 at a binary. (k6 is not an npm package; the npm "k6" is a stub.)`;

export class K6Missing extends Error {
  constructor(found?: string) {
    super(found ? `found ${found}, but the scripts need k6 >= ${K6_MINIMUM.major}.${K6_MINIMUM.minor} (k6/websockets).\n${INSTALL_K6}` : `k6 is not installed: ${INSTALL_K6}`);
  }
}

/** "k6 v1.6.1 (commit/…, go1.25…)" -> [1, 6]; null when the output is not k6's. */
export function k6Version(output: string): [number, number] | null {
  const match = output.match(/\bk6 v(\d+)\.(\d+)\.\d+/);
  return match ? [Number(match[1]), Number(match[2])] : null;
}

/** The k6 binary to run, or throws K6Missing with install instructions (missing, or older than 1.6). */
export function findK6(): string {
  const binary = env.K6 ?? "k6";
  const probe = spawnSync(binary, ["version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) throw new K6Missing();
  const version = k6Version(probe.stdout);
  if (!version) throw new K6Missing(`"${probe.stdout.trim().slice(0, 80)}"`);
  const [major, minor] = version;
  if (major < K6_MINIMUM.major || (major === K6_MINIMUM.major && minor < K6_MINIMUM.minor)) throw new K6Missing(`k6 v${major}.${minor}`);
  return binary;
}

export interface K6RunOptions {
  /** k6 --local-ips (source addresses, one per VU round-robin). */
  localIps?: string | undefined;
  /** Export k6's web dashboard as HTML beside the report (k6 dashboard, env K6_WEB_DASHBOARD*). */
  webDashboard?: boolean;
}

/**
 * Arguments of `k6 run`. The summary comes from the scripts' handleSummary (SUMMARY_PATH),
 * not --summary-export; the raw samples from --out json (the merge of N runs needs them).
 */
export function k6Args(script: string, outDir: string, vars: Record<string, string>, options: K6RunOptions = {}): string[] {
  return [
    "run",
    // Nothing may leave the machine.
    "--no-usage-report",
    "--out",
    `json=${outDir}/metrics.json.gz`,
    ...(options.localIps ? ["--local-ips", options.localIps] : []),
    ...Object.entries({ ...vars, SUMMARY_PATH: `${outDir}/summary.json` }).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    script,
  ];
}

/** Environment for the k6 process: the web dashboard on 127.0.0.1 only, exported when the run ends. */
export function k6Env(outDir: string, options: K6RunOptions = {}): Record<string, string> {
  return options.webDashboard
    ? { K6_WEB_DASHBOARD: "true", K6_WEB_DASHBOARD_HOST: "127.0.0.1", K6_WEB_DASHBOARD_OPEN: "false", K6_WEB_DASHBOARD_EXPORT: `${outDir}/k6-dashboard.html` }
    : {};
}
