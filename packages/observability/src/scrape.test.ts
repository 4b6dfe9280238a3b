import { describe, expect, it } from "vitest";
import { Counter, Registry } from "prom-client";
import { parsePrometheusText, sumOf } from "./scrape";

describe("parsePrometheusText", () => {
  it("reads back what prom-client writes, labels and escapes included", async () => {
    const registry = new Registry();
    const calls = new Counter({ name: "calls_total", help: "calls", labelNames: ["path", "outcome"], registers: [registry] });
    calls.inc({ path: "audiences.create", outcome: "ok" }, 3);
    calls.inc({ path: 'odd"path\\x', outcome: "UNAUTHORIZED" }, 2);
    const samples = parsePrometheusText(await registry.metrics());
    expect(sumOf(samples, "calls_total")).toBe(5);
    expect(sumOf(samples, "calls_total", { outcome: "ok" })).toBe(3);
    expect(sumOf(samples, "calls_total", { path: 'odd"path\\x' })).toBe(2);
  });

  it("refuses a line that is no sample, rather than reading a wrong figure", () => {
    expect(() => parsePrometheusText("<html>login</html>\n")).toThrow(/not a Prometheus sample line/);
  });
});
