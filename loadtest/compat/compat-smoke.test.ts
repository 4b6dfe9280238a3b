/**
 * k6 compat SMOKE — not a load measurement. Each scenario module is loaded with its
 * few `k6/*` imports replaced by shims (vitest aliases them, see the root
 * vitest.config.ts), and each exported scenario function runs a few iterations
 * against a live messenger and a mini fixture. Fails on any failed check or thrown
 * error. Proves the scripts run and speak the real API; says nothing about capacity.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestMessenger, TEST_ADMIN_TOKEN, type TestMessenger } from "@handshake/messenger/testing";
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

async function smoke(file: string, env: Record<string, string>) {
  registry.reset();
  installK6Globals(env);
  vi.resetModules();
  const mod = await import(/* @vite-ignore */ `../scenarios/${file}`);
  const ran = await runScenarioModule(mod);
  return { ran, failed: registry.failedChecks(), checks: registry.checks.length };
}

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
    expect(result.ran).toEqual(["steady"]);
    expect(registry.values("messages_sent").length).toBeGreaterThan(5);
    expect(registry.values("delivery_latency").length).toBeGreaterThan(0);
    expect(registry.values("delivered").length).toBeGreaterThan(0);
    expect(registry.values("delivered").every((v) => v === 1)).toBe(true);
  });

  it("reconnect-storm: everyone drops, queues build, everyone resumes and the backlog drains", async () => {
    const result = await smoke("reconnect-storm.ts", baseEnv(target(), fixtures));
    expect(result.failed).toEqual([]);
    expect(registry.values("reconnect_latency").length).toBe(4);
    expect(registry.values("delivered").length).toBeGreaterThan(0);
    expect(registry.values("delivered").every((v) => v === 1)).toBe(true);
  });

  it("business-broadcast: sends are refused exactly where customers chose so, nothing unwanted arrives", async () => {
    const result = await smoke("business-broadcast.ts", baseEnv(target(), fixtures));
    expect(result.failed).toEqual([]);
    expect(registry.values("choices_respected").length).toBeGreaterThan(0);
    expect(registry.values("unwanted_deliveries")).toEqual([]);
  });

  it("rollout: 30 compressed days of acceptances and opt-outs; holdouts locked out after the deadline", async () => {
    // The rollout moves the simulation clock past the deadline: its own messenger.
    const own = await startTestMessenger({ rateLimits: false });
    try {
      const dir = await writeMiniFixture(own.url);
      const result = await smoke("rollout.ts", baseEnv(own.url.replace(/\/trpc$/, ""), dir));
      expect(result.failed).toEqual([]);
      expect(registry.values("holdouts_locked_out")).toEqual([1]);
      expect(registry.values("accepted_served").length).toBe(6);
    } finally {
      await own.close();
    }
  });
});
