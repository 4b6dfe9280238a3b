import { describe, expect, it } from "vitest";
import { judgeStep, P99_TARGET_MS } from "./relay-realistic";

const held = {
  devices: 10_000,
  held: 10_000,
  seconds: 60,
  samples: 300,
  p50: 12,
  p99: 60,
  max: 90,
  sendP50: 10,
  sendP99: 50,
  sentLive: 300,
  sentStub: 950,
  undelivered: 0,
  duplicates: 0,
  errors: 0,
  reconnects: 680,
  reconnectFailures: 0,
  reconnectP99: 40,
  dropped: 0,
  clientCpuMax: 0.1,
  latenessP99: 5,
  serverCpu: 0.3,
};

describe("a realistic step passes only on evidence", () => {
  it("passes with samples, p99 under the target and nothing lost", () => {
    expect(judgeStep(held)).toEqual({ passed: true, why: [] });
  });

  it("a step that saw no samples has not passed, whatever its (empty) percentiles say", () => {
    const r = judgeStep({ ...held, samples: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN, sentLive: 0 });
    expect(r.passed).toBe(false);
    expect(r.why).toContain("no delivery samples");
  });

  it("fails at the target, on lost or refused work, and on a saturated generator", () => {
    expect(judgeStep({ ...held, p99: P99_TARGET_MS }).passed).toBe(false);
    expect(judgeStep({ ...held, undelivered: 1 }).why.join()).toMatch(/1 undelivered/);
    expect(judgeStep({ ...held, errors: 2 }).why.join()).toMatch(/2 send\/ack errors/);
    expect(judgeStep({ ...held, reconnectFailures: 1 }).passed).toBe(false);
    expect(judgeStep({ ...held, dropped: 1 }).passed).toBe(false);
    expect(judgeStep({ ...held, held: 9_990 }).why.join()).toMatch(/10 devices not connected/);
    expect(judgeStep({ ...held, clientCpuMax: 0.9 }).why.join()).toMatch(/saturated/);
    expect(judgeStep({ ...held, latenessP99: 1_500 }).why.join()).toMatch(/saturated/);
  });
});
