/**
 * k6 compat SMOKE — not a load measurement. Each scenario module is loaded with its
 * few `k6/*` imports replaced by shims (vitest aliases them, see the root
 * vitest.config.ts), and each exported scenario function runs a few iterations
 * against a live messenger (and, for custom-audience and the rollout's share-pipeline
 * lag, a live Facebook side wired to it) and a mini fixture. Fails on any failed check
 * or thrown error. Proves the scripts run and speak the real API; says nothing about
 * capacity.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { freePort } from "@handshake/db/embedded";
import { startTestFacebook, TEST_FACEBOOK_ADMIN_TOKEN } from "@handshake/facebook/testing";
import { startTestMessenger, TEST_ADMIN_TOKEN, TEST_SERVICE_TOKEN, type TestMessenger } from "@handshake/messenger/testing";
import { readFile } from "node:fs/promises";
import { readPoints } from "../src/report/k6-results";
import { mergeRuns } from "../src/report/merge-runs";
import { matchesTags, percentileOf } from "../src/report/thresholds";
import { installK6Globals } from "./globals";
import { runScenarioModule } from "./harness";
import { writeMiniFixture } from "./mini-fixture";
import { registry } from "./registry";

let messenger: TestMessenger;
let fixtures: string;

const baseEnv = (target: string, dir: string) => ({
  TARGET: target,
  FIXTURES: dir,
  ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  DURATION: "3",
  RATE: "8",
  CONNECTED: "4",
  USERS_PER_VU: "2",
  DELIVERED_SHARE: "0.7",
  OUTAGE: "1",
  DAY_SECONDS: "0.15",
  BUSINESS_RATE: "4",
});

/** Runs a scenario under the shims; its handleSummary writes summary.json (and the harness metrics.json) into `out`. */
async function smoke(file: string, env: Record<string, string>, harness: Parameters<typeof runScenarioModule>[1] = {}, out?: string) {
  registry.reset();
  const dir = out ?? (await mkdtemp(path.join(tmpdir(), "handshake-compat-run-")));
  installK6Globals({ ...env, SUMMARY_PATH: path.join(dir, "summary.json") });
  vi.resetModules();
  const mod = await import(/* @vite-ignore */ `../scenarios/${file}`);
  const { ran, summary } = await runScenarioModule(mod, harness);
  return { ran, summary, dir, failed: registry.failedChecks(), checks: registry.checks.length };
}

/**
 * Thresholds the run's summary failed (evaluated by the harness as k6 would at the end),
 * except those on timings: on this shared machine those are noise, and speed is for
 * benchmarks, not tests. Counts, rates and invariants must all hold.
 */
const failedThresholds = (summary: Record<string, unknown>) =>
  Object.entries(summary.metrics as Record<string, { contains: string; thresholds?: Record<string, { ok: boolean }> }>).flatMap(([metric, m]) =>
    Object.entries(m.contains === "time" ? {} : (m.thresholds ?? {}))
      .filter(([, t]) => !t.ok)
      .map(([expression]) => `${metric} ${expression}`),
  );

const sum = (metric: string) => registry.values(metric).reduce((a, b) => a + b, 0);

beforeAll(async () => {
  messenger = await startTestMessenger({ rateLimits: false });
  fixtures = await writeMiniFixture(messenger.url);
});

afterAll(async () => {
  await messenger?.close();
});

const target = () => messenger.url.replace(/\/trpc$/, "");

describe("k6 compat smoke (not a load measurement): each scenario's iterations run and pass their checks", () => {
  it("steady: connected users send, receive, ack, and every receipt comes back", async () => {
    const result = await smoke("steady.ts", baseEnv(target(), fixtures));
    expect(result.failed).toEqual([]);
    expect(failedThresholds(result.summary)).toEqual([]);
    expect(result.ran).toEqual(["steady_holders", "steady"]);
    expect(registry.values("messages_sent").length).toBeGreaterThan(5);
    expect(registry.values("delivery_latency").length).toBeGreaterThan(0);
    // Every message to a connected user came back as a receipt (counted by the sender's holder).
    expect(sum("receipts_expected")).toBeGreaterThan(0);
    expect(sum("receipts")).toBe(sum("receipts_expected"));
    expect(registry.values("connections_ok")).toEqual([1, 1, 1, 1]);
  });

  it("two generators (execution segments 0:1/2 and 1/2:1) of steady: their real summaries merge, thresholds re-evaluated on the whole", async () => {
    registry.reset();
    installK6Globals({ ...baseEnv(target(), fixtures), SUMMARY_PATH: "summary.json" });
    vi.resetModules();
    const steady = "../scenarios/steady.ts"; // not a literal: the k6 files are type-checked with k6's types, not here
    const mod = await import(/* @vite-ignore */ steady);
    const dirs = await Promise.all([0, 1].map(() => mkdtemp(path.join(tmpdir(), "handshake-compat-generator-"))));
    // Both generators at once, as k6-operator's runners start together.
    const runs = await Promise.all(dirs.map((outDir, index) => runScenarioModule(mod, { segment: { index, count: 2 }, outDir })));
    expect(registry.failedChecks()).toEqual([]);
    const out = await mkdtemp(path.join(tmpdir(), "handshake-compat-merged-"));
    const report = await mergeRuns({ scenario: "steady", shards: 1, shardCount: 10_000, peak: false, durationSeconds: 3, out, runs: dirs });
    const merged = JSON.parse(await readFile(path.join(out, "summary.json"), "utf8")) as { metrics: Record<string, { values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }> };
    const parts = runs.map((r) => r.summary.metrics as typeof merged.metrics);

    // Counts add up; each generator held half the connections.
    expect(parts.map((p) => p["connections_attempted{scenario:steady_holders}"]!.values.count)).toEqual([2, 2]);
    expect(merged.metrics["connections_attempted{scenario:steady_holders}"]!.values.count).toBe(4);
    expect(merged.metrics.messages_sent!.values.count).toBe(parts[0]!.messages_sent!.values.count! + parts[1]!.messages_sent!.values.count!);
    // A receipt is counted by whichever generator holds the sender's socket, so only the
    // merged counters pair every expected receipt with the one that came back.
    expect(merged.metrics.receipts!.values.count).toBe(merged.metrics.receipts_expected!.values.count);
    expect(report.thresholds.find((t) => t.metric === "delivered")).toMatchObject({ ok: true, observed: 1 });
    // Both runs' time series on one clock feed the merged report's charts.
    // (a drawn line: Observable Plot's line mark with at least two points)
    expect(report.html).toMatch(/aria-label="line"[^>]*><path[^>]* d="M[\d.]+,[\d.]+L[\d.]+,[\d.]+/);

    // Percentiles are recomputed from both runs' raw samples, as k6 computes them.
    const key = { name: "delivery_latency", tags: { scenario: "steady_holders" } };
    const all: number[] = [];
    for (const dir of dirs) for await (const p of readPoints(path.join(dir, "metrics.json"))) if (p.metric === key.name && matchesTags(key.tags, p.tags)) all.push(p.value);
    expect(all.length).toBeGreaterThan(0);
    const latency = merged.metrics["delivery_latency{scenario:steady_holders}"]!;
    expect(latency.values["p(99)"]).toBe(percentileOf(all.sort((a, b) => a - b), 0.99));
    expect(Object.keys(latency.thresholds!)).toEqual(["p(50)<100", "p(99)<500"]);
    // Counts and invariants hold on the whole (timings are noise on this machine, not asserted).
    for (const [metric, m] of Object.entries(merged.metrics)) {
      if (metric.startsWith("delivery_latency") || metric.startsWith("receipt_latency") || metric.startsWith("ws_connecting") || metric.startsWith("generator_loop_lag")) continue;
      for (const [expression, t] of Object.entries(m.thresholds ?? {})) expect({ metric, expression, ok: t.ok }).toEqual({ metric, expression, ok: true });
    }
  });

  it("breakpoint: holders connected, a ramping arrival rate sends, abortOnFail thresholds accepted", async () => {
    const result = await smoke("breakpoint.ts", baseEnv(target(), fixtures));
    expect(result.failed).toEqual([]);
    expect(failedThresholds(result.summary)).toEqual([]);
    expect(result.ran).toEqual(["breakpoint_holders", "breakpoint"]);
    expect(sum("receipts")).toBe(sum("receipts_expected"));
  });

  it("reconnect-storm: everyone drops, queues build, everyone resumes and the backlog drains", async () => {
    const result = await smoke("reconnect-storm.ts", baseEnv(target(), fixtures));
    expect(result.failed).toEqual([]);
    expect(failedThresholds(result.summary)).toEqual([]);
    expect(registry.values("reconnect_latency").length).toBe(4);
    expect(sum("receipts_expected")).toBeGreaterThan(0);
    expect(sum("receipts")).toBe(sum("receipts_expected"));
  });

  it("business-broadcast: sends are refused exactly where customers chose so, nothing unwanted arrives", async () => {
    const result = await smoke("business-broadcast.ts", baseEnv(target(), fixtures));
    expect(result.failed).toEqual([]);
    expect(failedThresholds(result.summary)).toEqual([]);
    expect(registry.values("choices_respected").length).toBeGreaterThan(0);
    expect(registry.values("unwanted_deliveries")).toEqual([]);
  });

  it("rollout: 30 compressed days of acceptances and opt-outs; holdouts locked out; every change followed to Facebook", async () => {
    // The rollout moves the simulation clock past the deadline: its own messenger, wired
    // to its own Facebook side as in production (tooling/e2e harness). The mini fixture's
    // numbers are German, and under historical-2016 Germany shares nothing, so this
    // messenger runs optout-2016 everywhere: every consent change then alters what
    // Facebook holds, and the lag path has something to observe.
    const facebookPort = await freePort();
    const own = await startTestMessenger({ rateLimits: false, regime: "optout-2016", facebookUrl: `http://127.0.0.1:${facebookPort}/trpc` });
    const facebook = await startTestFacebook({
      port: facebookPort,
      serviceToken: TEST_SERVICE_TOKEN,
      messengerUrl: own.url,
      clock: own.server.services.clock,
    }).catch(async (error: unknown) => {
      await own.close();
      throw error;
    });
    try {
      const dir = await writeMiniFixture(own.url);
      const result = await smoke("rollout.ts", {
        ...baseEnv(own.url.replace(/\/trpc$/, ""), dir),
        FACEBOOK_TARGET: facebook.url.replace(/\/trpc$/, ""),
        FACEBOOK_ADMIN_TOKEN: TEST_FACEBOOK_ADMIN_TOKEN,
        LAG_SAMPLE: "1",
        // Headroom for a loaded CI machine: the clock VU makes two calls per simulated day.
        DAY_SECONDS: "0.3",
        LAG_TIMEOUT: "20",
      });
      expect(result.failed).toEqual([]);
    expect(failedThresholds(result.summary)).toEqual([]);
      expect(registry.values("holdouts_locked_out")).toEqual([1]);
      expect(registry.values("accepted_served").length).toBe(6);
      // Six acceptances and one opt-out, each followed until Facebook held the new snapshot.
      expect(registry.values("share_pipeline_arrived")).toEqual([1, 1, 1, 1, 1, 1, 1]);
      expect(registry.values("share_pipeline_lag").length).toBe(7);
      for (const lag of registry.values("share_pipeline_lag")) expect(lag).toBeGreaterThan(0);
      expect(registry.values("share_pipeline_unobservable")).toEqual([]);
      expect(registry.values("share_outbox_pending").length).toBeGreaterThan(0);
      expect(registry.values("errors").every((v) => v === 0)).toBe(true);
    } finally {
      await own.close();
      await facebook.close();
    }
  });

  it("custom-audience: advertisers upload 10,000-row calls and read sizes; no answer carries a phone, hash or profile", async () => {
    const facebook = await startTestFacebook({
      serviceToken: TEST_SERVICE_TOKEN,
      messengerUrl: messenger.url,
      clock: messenger.server.services.clock,
    });
    try {
      const result = await smoke(
        "custom-audience.ts",
        {
          ...baseEnv(target(), fixtures),
          FACEBOOK_TARGET: facebook.url.replace(/\/trpc$/, ""),
          FACEBOOK_ADMIN_TOKEN: TEST_FACEBOOK_ADMIN_TOKEN,
          LISTS_PER_MINUTE: "2",
          // One full 10,000-row call and a partial one per list.
          LIST_ROWS: "12000",
        },
        { arrivalIterations: 3 },
      );
      expect(result.failed).toEqual([]);
    expect(failedThresholds(result.summary)).toEqual([]);
      expect(result.ran).toEqual(["custom_audience"]);
      expect(registry.values("audience_lists")).toEqual([1, 1, 1]);
      expect(registry.values("audience_rows").reduce((a, b) => a + b, 0)).toBe(36_000);
      expect(registry.values("audience_upload_latency").length).toBe(6);
      expect(registry.values("audience_leaks").length).toBeGreaterThan(0);
      expect(registry.values("audience_leaks").every((v) => v === 0)).toBe(true);
      expect(registry.values("audience_budget_refusals")).toEqual([]);
      expect(registry.values("errors").every((v) => v === 0)).toBe(true);
    } finally {
      await facebook.close();
    }
  });
});
