/** Inline SVG line charts for the HTML report (no chart library, works offline). */
export interface Series {
  name: string;
  colour: string;
  points: Array<[x: number, y: number | null]>;
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export function lineChart(title: string, yLabel: string, series: Series[], width = 720, height = 260): string {
  const pad = { left: 56, right: 16, top: 28, bottom: 36 };
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y).filter((y): y is number => y !== null));
  const xMax = Math.max(1, ...xs);
  const yMax = Math.max(1, ...ys) * 1.1;
  const px = (x: number) => pad.left + (x / xMax) * (width - pad.left - pad.right);
  const py = (y: number) => height - pad.bottom - (y / yMax) * (height - pad.top - pad.bottom);
  const paths = series.map((s) => {
    let d = "";
    let pen = "M";
    for (const [x, y] of s.points) {
      if (y === null) {
        pen = "M";
        continue;
      }
      d += `${pen}${px(x).toFixed(1)},${py(y).toFixed(1)} `;
      pen = "L";
    }
    return `<path d="${d.trim()}" fill="none" stroke="${s.colour}" stroke-width="1.5"/>`;
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const y = yMax * f;
    return `<line x1="${pad.left}" x2="${width - pad.right}" y1="${py(y)}" y2="${py(y)}" stroke="#eee"/><text x="${pad.left - 6}" y="${py(y) + 4}" text-anchor="end" font-size="11">${y >= 100 ? Math.round(y) : y.toFixed(1)}</text>`;
  });
  const legend = series.map((s, i) => `<text x="${pad.left + 8 + i * 150}" y="${pad.top - 10}" font-size="12" fill="${s.colour}">■ ${escape(s.name)}</text>`);
  return `<figure><figcaption>${escape(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escape(title)}">
${ticks.join("\n")}
<text x="14" y="${height / 2}" font-size="11" transform="rotate(-90 14 ${height / 2})" text-anchor="middle">${escape(yLabel)}</text>
<text x="${width / 2}" y="${height - 6}" font-size="11" text-anchor="middle">seconds since start (last: ${Math.round(xMax)})</text>
${paths.join("\n")}
${legend.join("\n")}
</svg></figure>`;
}
