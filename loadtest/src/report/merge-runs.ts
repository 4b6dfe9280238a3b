/**
 * `pnpm loadtest merge`: one report from N generators' run directories, each holding
 * the summary.json its handleSummary wrote and, ideally, its k6 JSON output
 * (metrics.json[.gz]) so trend percentiles are exact (see merge.ts).
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { plan, type ScenarioName } from "../model/workload";
import { readTimeSeries, summarySchema, type SecondBucket, type TimeSeries } from "./k6-results";
import { mergeSummaries, type RunData } from "./merge";
import { rateSpec } from "./rate";
import { buildReport, writeReport, type Report } from "./report";

export interface MergeRequest {
  scenario: ScenarioName;
  shards: number;
  shardCount: number;
  peak: boolean;
  durationSeconds: number;
  outageSeconds?: number;
  listsPerMinute?: number;
  out: string;
  runs: string[];
}

/**
 * One generator's output: a directory with summary.json (and metrics.json[.gz]), or a
 * `<prefix>summary.json` file with `<prefix>metrics.json[.gz]` beside it (k8s/testrun-steady.yaml).
 */
export async function readRun(where: string): Promise<RunData> {
  const file = where.endsWith("summary.json") ? where : path.join(where, "summary.json");
  if (!existsSync(file)) throw new Error(`${where}: no summary.json (written by the scripts' handleSummary)`);
  const summary = summarySchema.parse(JSON.parse(await readFile(file, "utf8")));
  const prefix = file.slice(0, -"summary.json".length);
  const metricsFile = ["metrics.json.gz", "metrics.json"].map((f) => prefix + f).find((f) => existsSync(f));
  return { summary, metricsFile };
}

/** The runs' per-second buckets on one clock (each run's seconds shifted to the earliest start). */
export async function mergedSeries(runs: RunData[]): Promise<TimeSeries> {
  const all = await Promise.all(runs.filter((r) => r.metricsFile).map((r) => readTimeSeries(r.metricsFile!)));
  const starts = all.map((s) => s.startedAt?.getTime()).filter((t): t is number => t !== undefined);
  if (starts.length === 0) return { startedAt: null, seconds: [] };
  const start = Math.min(...starts);
  const buckets = new Map<number, SecondBucket>();
  for (const series of all) {
    const shift = Math.floor(((series.startedAt?.getTime() ?? start) - start) / 1000);
    for (const b of series.seconds) {
      const second = b.second + shift;
      const into = buckets.get(second) ?? { second, sent: 0, received: 0, latencies: [], errors: 0 };
      into.sent += b.sent;
      into.received += b.received;
      into.errors += b.errors;
      into.latencies.push(...b.latencies);
      buckets.set(second, into);
    }
  }
  return { startedAt: new Date(start), seconds: [...buckets.values()].sort((a, b) => a.second - b.second) };
}

export async function mergeRuns(request: MergeRequest): Promise<Report> {
  const runs = await Promise.all(request.runs.map(readRun));
  const merged = await mergeSummaries(runs);
  const sample = plan({ shards: request.shards, shardCount: request.shardCount });
  const load = request.peak ? sample.peak : sample.average;
  const series = await mergedSeries(runs);
  const report = buildReport(
    {
      scenario: request.scenario,
      shards: request.shards,
      shardCount: request.shardCount,
      population: sample.sample.population,
      level: request.peak ? "peak" : "average",
      rate: rateSpec(request.scenario, {
        load,
        durationSeconds: request.durationSeconds,
        outageSeconds: request.outageSeconds ?? 10,
        listsPerMinute: request.listsPerMinute ?? sample.audiences.listsPerMinute,
      }),
      durationSeconds: request.durationSeconds,
      target: `${runs.length} generators`,
      // Each generator's own verdict is replaced by the thresholds on the merged data.
      k6ExitCode: null,
      startedAt: new Date(),
      generators: runs.length,
    },
    merged,
    series,
  );
  await mkdir(request.out, { recursive: true });
  await writeFile(path.join(request.out, "summary.json"), JSON.stringify(merged, null, 1));
  await writeReport(request.out, report);
  console.log(`${report.markdown}\nreport: ${path.join(request.out, "report.html")}`);
  return report;
}
