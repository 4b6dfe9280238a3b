/**
 * A line chart drawn by Observable Plot: one line per series over labelled days
 * (colour and dash pattern, so colour is not the only cue), dots at the points, a
 * y axis with round ticks (whole numbers only for counts, so an empty or tiny chart
 * reads "0, 1" rather than "0, 0, 1, 1, 1"), a tooltip at the nearest point, and an
 * HTML legend.
 */
import { useEffect, useRef } from "react";

/** A dated event drawn as a vertical rule with a label (e.g. a regulator's order). */
export interface ChartEvent {
  /** One of the chart's x labels. */
  x: string;
  label: string;
}

export interface Series {
  name: string;
  colour: string;
  /** One value per x label; null where there is no data (yet). */
  values: (number | null)[];
}

interface Props {
  title: string;
  description: string;
  xLabels: string[];
  series: Series[];
  /** Top of the y axis (default: the largest value, made round by the scale). */
  yMax?: number;
  formatY?: (value: number) => string;
  testId?: string;
  /** Vertical rules with labels; events whose x is not a label are left out. */
  events?: ChartEvent[];
}

interface Point {
  x: string;
  y: number;
  series: string;
}

const WIDTH = 720;
const HEIGHT = 280;
const DASHES = ["none", "6 4", "2 3", "10 3 2 3", "1 5", "12 6"];
/** Labels shown on the x axis at most (the rest still have points and tooltips). */
const X_TICKS = 8;

/**
 * Tick count for the y axis: a hint of 5, but never more ticks than whole numbers
 * in the range when every value is a whole number (so no tick repeats once rounded).
 */
export function yTickCount(top: number, wholeNumbers: boolean): number {
  return wholeNumbers ? Math.max(1, Math.min(5, Math.ceil(top))) : 5;
}

export function LineChart({ title, description, xLabels, series, yMax, formatY = String, testId, events = [] }: Props) {
  const holder = useRef<HTMLDivElement>(null);
  const points: Point[] = series.flatMap((s) => s.values.flatMap((y, i) => (y === null ? [] : [{ x: xLabels[i]!, y, series: s.name }])));
  const wholeNumbers = points.every((p) => Number.isInteger(p.y));
  const top = yMax ?? Math.max(1, ...points.map((p) => p.y));
  // Redraw only when what is drawn changes (refetches hand back equal data every few seconds).
  const shownEvents = events.filter((e) => xLabels.includes(e.x));
  const drawn = JSON.stringify({ xLabels, series, top, shownEvents });

  useEffect(() => {
    let chart: Element | null = null;
    let cancelled = false;
    // Plot (with d3) is most of the bundle and only the rollout draws: load it with the first chart.
    void import("@observablehq/plot").then((Plot) => {
      if (cancelled) return;
      const every = Math.max(1, Math.ceil(xLabels.length / X_TICKS));
      chart = Plot.plot({
        width: WIDTH,
        height: HEIGHT,
        marginLeft: 56,
        marginBottom: 36,
        ariaLabel: title,
        ariaDescription: description,
        style: { fontSize: "12px", background: "transparent" },
        x: { type: "point", domain: xLabels, ticks: xLabels.filter((_, i) => i % every === 0), label: null, padding: 0.2 },
        y: { domain: [0, top], nice: yMax === undefined, grid: true, label: null, ticks: yTickCount(top, wholeNumbers), tickFormat: formatY },
        color: { domain: series.map((s) => s.name), range: series.map((s) => s.colour) },
        marks: [
          Plot.ruleY([0]),
          Plot.ruleX(shownEvents, { x: "x", stroke: "#6b7280", strokeDasharray: "3 3" }),
          // Alternate label rows, so events a few days apart (the ICO and EU pauses) do not overlap.
          ...[0, 1].map((row) =>
            Plot.text(
              shownEvents.filter((_, i) => i % 2 === row),
              { x: "x", frameAnchor: "top", text: "label", textAnchor: "start", dx: 3, dy: 2 + row * 14, fill: "#374151" },
            ),
          ),
          ...series.map((s, k) =>
            Plot.lineY(
              points.filter((p) => p.series === s.name),
              { x: "x", y: "y", stroke: s.colour, strokeWidth: 2.5, strokeDasharray: DASHES[k % DASHES.length] },
            ),
          ),
          Plot.dot(points, { x: "x", y: "y", fill: "series", r: 3 }),
          Plot.tip(
            points,
            Plot.pointer({
              x: "x",
              y: "y",
              stroke: "series",
              title: (p: Point) => `${p.series}\n${p.x}: ${formatY(p.y)}`,
            }),
          ),
        ],
      });
      holder.current?.replaceChildren(chart);
    });
    return () => {
      cancelled = true;
      chart?.remove();
    };
    // `drawn` stands for the inputs (xLabels, series, top); formatY is a fresh closure each render.
  }, [drawn, title, description]);

  return (
    <figure className="chart">
      <div ref={holder} data-testid={testId} data-points={points.length} data-events={shownEvents.length} className="chart-plot" />
      <figcaption>
        <ul className="legend">
          {series.map((s, k) => (
            <li key={s.name}>
              <svg width="28" height="10" aria-hidden="true">
                <line x1="0" x2="28" y1="5" y2="5" stroke={s.colour} strokeWidth="3" strokeDasharray={DASHES[k % DASHES.length]} />
              </svg>
              {s.name}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
