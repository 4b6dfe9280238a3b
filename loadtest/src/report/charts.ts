/**
 * Line charts for the HTML report, drawn by Observable Plot on the server (with a
 * linkedom document) into static SVG: the report stays one offline file with no
 * script, which is how the dashboard shows it (a sandboxed iframe). Each second has
 * a full-height hover strip whose SVG <title> is its tooltip (the browser shows it,
 * no script needed): the second and every series' value there. Axes get round ticks;
 * a series of whole numbers gets whole-number ticks, so an empty or tiny chart
 * reads "0, 1" rather than "0, 0, 1, 1, 1".
 */
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";

export interface Series {
  name: string;
  colour: string;
  points: Array<[x: number, y: number | null]>;
}

/** At most this many hover strips per chart (long runs share one per few seconds). */
const MAX_STRIPS = 600;

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** 1,234 · 12.5 · 0.042 */
function formatValue(v: number): string {
  return v.toLocaleString("en-US", { maximumFractionDigits: Math.abs(v) >= 100 ? 0 : 3 });
}

/**
 * Tick count for an axis from 0 to `top`: the hint `most`, but never more ticks than
 * whole numbers in the range when every value is a whole number (so no tick repeats
 * once rounded, and seconds are not split).
 */
export function tickCount(top: number, wholeNumbers: boolean, most = 5): number {
  return wholeNumbers ? Math.max(1, Math.min(most, Math.ceil(top))) : most;
}

/** What Plot returns, as far as this file uses it (the package has no DOM types). */
interface RenderedSvg {
  setAttribute(name: string, value: string): void;
  outerHTML: string;
}

export function lineChart(title: string, yLabel: string, series: Series[], width = 720, height = 260): string {
  const { document } = parseHTML("<!doctype html><html><body></body></html>");
  const points = series.flatMap((s) =>
    s.points.flatMap(([x, y]) => (y === null ? [] : [{ x, y, series: s.name }])),
  );
  const xs = [...new Set(series.flatMap((s) => s.points.map(([x]) => x)))].sort((a, b) => a - b);
  const xMax = Math.max(1, ...xs);
  const top = Math.max(1, ...points.map((p) => p.y));
  const wholeNumbers = points.every((p) => Number.isInteger(p.y));

  // One strip per second (or per few seconds on long runs), titled with every value there.
  const step = Math.max(1, Math.ceil(xs.length / MAX_STRIPS));
  const strips = xs
    .filter((_, i) => i % step === 0)
    .map((x) => ({
      x,
      title: [
        `${x} s`,
        ...series.map((s) => {
          const y = s.points.find(([px]) => px === x)?.[1];
          return `${s.name}: ${y === null || y === undefined ? "–" : formatValue(y)}`;
        }),
      ].join("\n"),
    }));
  const stripWidth = Math.max(1, ((width - 72) / Math.max(1, xMax)) * step);

  const svg = Plot.plot({
    document,
    width,
    height,
    marginLeft: 56,
    marginTop: 28,
    ariaLabel: title,
    ariaDescription: `${yLabel} over the seconds since the run started: ${series.map((s) => s.name).join(", ") || "no data"}`,
    style: { fontSize: "11px", overflow: "visible" },
    x: { domain: [0, xMax], nice: true, label: "seconds since start →", labelAnchor: "right", ticks: tickCount(xMax, xs.every(Number.isInteger), 10), tickFormat: formatValue },
    y: { domain: [0, top], nice: true, grid: true, label: `↑ ${yLabel}`, ticks: tickCount(top, wholeNumbers), tickFormat: formatValue },
    color: { domain: series.map((s) => s.name), range: series.map((s) => s.colour), legend: false },
    marks: [
      Plot.ruleY([0]),
      ...series.map((s) =>
        Plot.lineY(
          points.filter((p) => p.series === s.name),
          { x: "x", y: "y", stroke: s.colour, strokeWidth: 1.5 },
        ),
      ),
      Plot.ruleX(strips, { x: "x", stroke: "transparent", strokeWidth: stripWidth, title: "title" }),
    ],
  }) as unknown as RenderedSvg;
  // Plot adds xmlns on the root only in a browser; a standalone SVG needs it.
  svg.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  const legend = series
    .map((s) => `<span class="legend-item"><span style="color:${s.colour}">■</span> ${escape(s.name)}</span>`)
    .join(" ");
  return `<figure><figcaption>${escape(title)} <small>${legend}</small></figcaption>${svg.outerHTML}</figure>`;
}
