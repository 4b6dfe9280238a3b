/**
 * The report's charts as the browser gets them: static SVG with round, distinct
 * ticks (also on an empty or tiny chart), a native tooltip per second naming every
 * series' value, and a bounded number of hover strips on long runs.
 */
import { parseHTML } from "linkedom";
import { describe, expect, it } from "vitest";
import { lineChart } from "./charts";

function parse(html: string) {
  const { document } = parseHTML(`<!doctype html><html><body>${html}</body></html>`);
  const texts = (label: string) => [...document.querySelectorAll(`g[aria-label="${label}"] text`)].map((t) => t.textContent);
  return {
    svg: document.querySelector("svg"),
    yTicks: texts("y-axis tick label"),
    xTicks: texts("x-axis tick label"),
    titles: [...document.querySelectorAll("title")].map((t) => t.textContent),
  };
}

describe("report charts", () => {
  it("an empty chart still has a readable axis: 0 and 1, no repeated ticks", () => {
    const chart = parse(lineChart("Throughput", "messages per second", [{ name: "sent", colour: "#1f77b4", points: [] }]));
    expect(chart.svg?.getAttribute("xmlns")).toBe("http://www.w3.org/2000/svg");
    expect(chart.yTicks).toEqual(["0", "1"]);
    expect(chart.titles).toEqual([]);
  });

  it("whole-number series get whole-number ticks; fractional ones get round decimals", () => {
    const counts = parse(lineChart("Errors", "errors per second", [{ name: "errors", colour: "#d62728", points: [[0, 0], [1, 2], [2, 1]] }]));
    expect(counts.yTicks).toEqual(["0", "1", "2"]);
    expect(counts.xTicks).toEqual(["0", "1", "2"]);
    const latency = parse(lineChart("Latency", "milliseconds", [{ name: "p99", colour: "#ff7f0e", points: [[0, 0.4], [1, 0.9]] }]));
    expect(new Set(latency.yTicks).size).toBe(latency.yTicks.length);
    expect(latency.yTicks).toEqual(["0", "0.2", "0.4", "0.6", "0.8", "1"]);
  });

  it("each second's tooltip names every series' value there", () => {
    const chart = parse(
      lineChart("Throughput", "messages per second", [
        { name: "sent", colour: "#1f77b4", points: [[0, 10], [1, 12], [2, 1234]] },
        { name: "errors", colour: "#d62728", points: [[0, 0], [1, null], [2, 3]] },
      ]),
    );
    expect(chart.titles).toEqual(["0 s\nsent: 10\nerrors: 0", "1 s\nsent: 12\nerrors: –", "2 s\nsent: 1,234\nerrors: 3"]);
    expect(new Set(chart.yTicks).size).toBe(chart.yTicks.length);
  });

  it("a long run shares hover strips between seconds, at most 600", () => {
    const points = Array.from({ length: 3600 }, (_, s) => [s, s % 7] as [number, number]);
    const chart = parse(lineChart("Throughput", "messages per second", [{ name: "sent", colour: "#1f77b4", points }]));
    expect(chart.titles.length).toBe(600);
    expect(chart.titles[1]).toBe("6 s\nsent: 6");
  });
});
