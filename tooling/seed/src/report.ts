/** The seeding report: an aligned table of rows per table, seconds and rows/s. */
import type { SeedResult } from "./seed";

/** Renders rows as an aligned plain-text table (first column left, others right). */
export function table(title: string, header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join("  ");
  return [title, line(header), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n") + "\n";
}

/** Thousands separators, no decimals. */
export function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/**
 * The final table of a run: rows each table received and the run's rate. The
 * tables are filled together, batch by batch, so one duration (the seeding wall
 * clock) serves every row; rows/s per table is that table's share of it.
 */
export function resultTable(result: SeedResult): string {
  const s = result.seedSeconds;
  const rate = (rows: number) => (s > 0 ? count(rows / s) : "-");
  const total = result.tables.reduce((sum, t) => sum + t.rows, 0);
  const rows: Array<Array<string | number>> = result.tables.map((t) => [`${t.target}.${t.table}`, count(t.rows), s.toFixed(2), rate(t.rows)]);
  rows.push(["total", count(total), s.toFixed(2), rate(total)]);
  if (result.fixtureUsers > 0) {
    rows.push(["fixtures (users.json)", count(result.fixtureUsers), result.fixtureSeconds.toFixed(2), count(result.fixtureUsers / result.fixtureSeconds)]);
  }
  const { spec, shards, outside } = result.sample;
  const title =
    `seeded ${count(result.users)} users (shards ${shards.join(",")} of ${count(spec.shardCount)}, seed ${spec.seed}, ` +
    `+${count(outside.length)} outside stubs); ${count(result.skipped)} already present or phone taken`;
  return table(title, ["table", "rows", "seconds", "rows/s"], rows);
}
