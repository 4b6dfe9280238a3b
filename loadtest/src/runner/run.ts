/**
 * `pnpm loadtest run`: stack (unless --target) -> seeded sample -> k6 -> report.
 */
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findRunningStack, startStack, type RunningStack } from "@handshake/stack";
import { BUSINESS_SHARE_OF_MESSAGES } from "../model/figures";
import { plan, type ScenarioName } from "../model/workload";
import { readTimeSeries, summarySchema } from "../report/k6-results";
import { buildReport, writeReport, type Report } from "../report/report";
import { rateSpec } from "../report/rate";
import { scrapeServices, serviceRows } from "../report/service-metrics";
import { findK6, k6Args, k6Env } from "./k6";
import { readFixtureMeta, seedSample } from "./fixtures";
import { sampleCpu } from "./generator-cpu";
import { childEnv, env } from "../env";

const loadtestDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface RunOptions {
  scenario: ScenarioName;
  shards: number;
  shardCount: number;
  peak: boolean;
  durationSeconds: number;
  target?: string | undefined;
  adminToken?: string | undefined;
  /** Facebook-side base URL when --target is given (default: the running `pnpm dev` stack's). */
  facebookTarget?: string | undefined;
  /** An already seeded fixture directory (skips seeding). */
  fixtures?: string | undefined;
  usersPerVu: number;
  /** custom-audience: lists per minute (default: the plan's, at least one). */
  listsPerMinute?: number | undefined;
  /** rollout: share of consent changes followed to the Facebook side. */
  lagSample: number;
  /** k6 --local-ips: source addresses for the generator (see README: loopback aliases). */
  localIps?: string | undefined;
  /** Export k6's web dashboard beside the report. */
  webDashboard?: boolean;
}

/** Seconds every connection stays down in the reconnect storm. */
const OUTAGE_SECONDS = 10;

export async function runScenario(options: RunOptions): Promise<Report> {
  const k6 = findK6(); // before anything starts: no k6, no run
  const sample = plan({ shards: options.shards, shardCount: options.shardCount });
  const load = options.peak ? sample.peak : sample.average;
  const listsPerMinute = options.listsPerMinute ?? sample.audiences.listsPerMinute;
  // What the report compares achieved against, over the window the scenario actually sends.
  const rate = rateSpec(options.scenario, { load, durationSeconds: options.durationSeconds, outageSeconds: OUTAGE_SECONDS, listsPerMinute });

  let stack: RunningStack | null = null;
  let scratch: string | null = null;
  try {
    let target = options.target;
    let adminToken = options.adminToken;
    let facebookTarget = options.facebookTarget;
    let databaseUrl: string | undefined;
    let facebookDatabaseUrl: string | undefined;
    if (!target) {
      // A fresh stack per run: the rollout needs a simulation clock before 2016-08-25.
      scratch = await mkdtemp(path.join(tmpdir(), "handshake-loadtest-"));
      await chmod(scratch, 0o755);
      console.log("starting the stack (embedded PostgreSQL in a temp folder, rate limits off)…");
      stack = await startStack({ dataDir: path.join(scratch, "pg"), env: { RATE_LIMITS: "off", LOG_LEVEL: "warn" } });
      const messenger = stack.info.services.messenger!;
      target = messenger.baseUrl;
      adminToken = stack.info.adminToken;
      databaseUrl = messenger.databaseUrl;
      facebookTarget = stack.info.services.facebook?.baseUrl;
      facebookDatabaseUrl = stack.info.services.facebook?.databaseUrl;
    } else {
      const running = await findRunningStack();
      adminToken ??= running?.adminToken;
      facebookTarget ??= running?.services.facebook?.baseUrl;
    }
    if (options.scenario === "custom-audience" && !facebookTarget) {
      throw new Error("custom-audience needs the Facebook side: pass --facebook-target (or run against a `pnpm dev` stack)");
    }

    const fixtures = options.fixtures ?? path.join(loadtestDir, "fixtures", `${options.shards}-of-${options.shardCount}`);
    const meta = options.fixtures
      ? await readFixtureMeta(fixtures)
      : await seedSample({
          shards: options.shards,
          shardCount: options.shardCount,
          out: fixtures,
          messengerDatabaseUrl: databaseUrl,
          facebookDatabaseUrl,
        });

    const startedAt = new Date();
    const outDir = path.join(loadtestDir, "reports", `${startedAt.toISOString().replace(/[:.]/g, "-")}-${options.scenario}`);
    await mkdir(outDir, { recursive: true });
    const vars = {
      TARGET: target,
      FIXTURES: path.resolve(fixtures),
      ADMIN_TOKEN: adminToken ?? "",
      DURATION: String(options.durationSeconds),
      OUTAGE: String(OUTAGE_SECONDS),
      RATE: load.messagesPerSecond.toFixed(3),
      CONNECTED: String(Math.min(meta.users, load.connected)),
      DELIVERED_SHARE: load.connectedShare.toFixed(4),
      USERS_PER_VU: String(options.usersPerVu),
      BUSINESS_RATE: (load.messagesPerSecond * BUSINESS_SHARE_OF_MESSAGES.value).toFixed(3),
      // The stack's services share one admin token; with --target, --admin-token serves both.
      FACEBOOK_TARGET: facebookTarget ?? "",
      FACEBOOK_ADMIN_TOKEN: adminToken ?? "",
      LISTS_PER_MINUTE: String(listsPerMinute),
      LIST_ROWS: String(sample.audiences.rowsPerList),
      LAG_SAMPLE: String(options.lagSample),
    };
    const script = path.join(loadtestDir, "scenarios", `${options.scenario}.ts`);
    const k6Options = { localIps: options.localIps, webDashboard: options.webDashboard ?? false };
    const args = k6Args(script, outDir, vars, k6Options);
    console.log(`k6 ${args.join(" ")}`);
    const metricTargets = { messenger: target, facebook: facebookTarget, token: env.METRICS_TOKEN };
    const metricsBefore = await scrapeServices(metricTargets);
    let generatorCpu: { peakCores: number; cores: number } | null = null;
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(k6, args, { stdio: "inherit", env: childEnv(k6Env(outDir, k6Options)) });
      const cpu = child.pid === undefined ? null : sampleCpu(child.pid);
      child.once("error", reject);
      child.once("exit", (code) => {
        generatorCpu = cpu?.stop() ?? null;
        resolve(code);
      });
    });
    const metricsAfter = await scrapeServices(metricTargets);
    const summaryFile = path.join(outDir, "summary.json");
    if (!existsSync(summaryFile)) throw new Error(`k6 exited with ${exitCode} and its handleSummary wrote no summary (${summaryFile})`);
    const summary = summarySchema.parse(JSON.parse(await readFile(summaryFile, "utf8")));
    const series = await readTimeSeries(path.join(outDir, "metrics.json.gz"));
    const report = buildReport(
      {
        scenario: options.scenario,
        shards: options.shards,
        shardCount: options.shardCount,
        population: sample.sample.population,
        level: options.peak ? "peak" : "average",
        rate,
        durationSeconds: options.durationSeconds,
        generatorCpu,
        target,
        k6ExitCode: exitCode,
        startedAt,
      },
      summary,
      series,
      serviceRows(metricsBefore, metricsAfter),
    );
    await writeReport(outDir, report);
    console.log(`\n${report.markdown}\nreport: ${path.join(outDir, "report.html")}`);
    return report;
  } finally {
    await stack?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}
