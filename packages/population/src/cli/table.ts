/** Renders rows as an aligned plain-text table (first column left, others right). */
export function table(title: string, header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join("  ");
  return [title, line(header), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n") + "\n";
}

/** A share as a percentage with one decimal. */
export function pct(part: number, whole: number): string {
  if (whole === 0) return "-";
  const v = (100 * part) / whole;
  return `${v > 0 && v < 1 ? v.toFixed(3) : v.toFixed(1)}%`;
}
