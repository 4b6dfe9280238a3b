/**
 * A small line chart in SVG: a fixed x axis of labelled points, one line per
 * series (colour and dash pattern, so colour is not the only cue), a y axis with
 * round ticks, and an HTML legend.
 */
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
  /** Top of the y axis (default: the largest value, rounded up). */
  yMax?: number;
  formatY?: (value: number) => string;
  testId?: string;
}

const WIDTH = 720;
const HEIGHT = 280;
const PAD = { left: 56, right: 16, top: 12, bottom: 36 };
const DASHES = ["", "6 4", "2 3", "10 3 2 3", "1 5", "12 6"];

function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

export function LineChart({ title, description, xLabels, series, yMax, formatY = String, testId }: Props) {
  const max = yMax ?? niceCeiling(Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null))));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (xLabels.length <= 1 ? 0 : (i / (xLabels.length - 1)) * plotW);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const xEvery = Math.max(1, Math.ceil(xLabels.length / 8));
  const points = series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);
  const titleId = `${testId ?? title.replace(/\W+/g, "-")}-title`;
  const descId = `${titleId}-desc`;

  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={`${titleId} ${descId}`}
        data-testid={testId}
        data-points={points}
      >
        <title id={titleId}>{title}</title>
        <desc id={descId}>{description}</desc>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(t)} y2={y(t)} className="gridline" />
            <text x={PAD.left - 8} y={y(t) + 4} textAnchor="end" className="tick">
              {formatY(t)}
            </text>
          </g>
        ))}
        {xLabels.map((label, i) =>
          i % xEvery === 0 || (i === xLabels.length - 1 && i % xEvery >= xEvery / 2) ? (
            <text key={label} x={x(i)} y={HEIGHT - PAD.bottom + 18} textAnchor="middle" className="tick">
              {label}
            </text>
          ) : null,
        )}
        <line x1={PAD.left} x2={PAD.left} y1={PAD.top} y2={PAD.top + plotH} className="axis" />
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={PAD.top + plotH} y2={PAD.top + plotH} className="axis" />
        {series.map((s, k) => {
          const defined = s.values.map((v, i) => (v === null ? null : ([x(i), y(v)] as const))).filter((p) => p !== null);
          if (defined.length === 0) return null;
          const d = defined.map(([px, py], i) => `${i === 0 ? "M" : "L"}${px.toFixed(1)},${py.toFixed(1)}`).join(" ");
          return (
            <g key={s.name}>
              <path d={d} fill="none" stroke={s.colour} strokeWidth={2.5} strokeDasharray={DASHES[k % DASHES.length]} />
              {defined.length === 1 ? <circle cx={defined[0]![0]} cy={defined[0]![1]} r={4} fill={s.colour} /> : null}
            </g>
          );
        })}
      </svg>
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
