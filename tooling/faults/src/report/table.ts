/** The per-fault table the suite prints, and the notes and failures under it. */
import type { FaultResult } from "../suite/suite";

const mib = (bytes: number | null) => (bytes === null ? "-" : (bytes / 1024 / 1024).toFixed(0));

const COLUMNS: { title: string; value: (r: FaultResult) => string }[] = [
  { title: "fault", value: (r) => r.fault },
  { title: "acked", value: (r) => String(r.messages.acknowledged) },
  { title: "delivered", value: (r) => String(r.messages.delivered) },
  { title: "lost", value: (r) => String(r.messages.lost) },
  { title: "dup", value: (r) => String(r.messages.duplicated) },
  { title: "order", value: (r) => String(r.messages.outOfOrder) },
  { title: "share written", value: (r) => String(r.share.written) },
  { title: "ingested", value: (r) => String(r.share.ingested) },
  { title: "missing", value: (r) => String(r.share.missing) },
  { title: "consent ≠", value: (r) => `${r.consent.disagreements}/${r.consent.accounts}` },
  { title: "RSS MiB before→after (peak)", value: (r) => `${mib(r.rss.before)}→${mib(r.rss.after)} (${mib(r.rss.peak)})` },
  { title: "catch-up", value: (r) => (r.catchUpMs === null ? "never" : `${(r.catchUpMs / 1000).toFixed(1)} s`) },
  { title: "result", value: (r) => (r.failures.length === 0 ? "PASS" : "FAIL") },
];

export function formatTable(results: FaultResult[]): string {
  const rows = [COLUMNS.map((c) => c.title), ...results.map((r) => COLUMNS.map((c) => c.value(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  const out = [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)];
  for (const r of results) {
    if (r.notes.length === 0 && r.failures.length === 0) continue;
    out.push("", `${r.fault} (${(r.durationMs / 1000).toFixed(1)} s): ${r.what}`);
    for (const note of r.notes) out.push(`  · ${note}`);
    for (const failure of r.failures) out.push(`  ✗ ${failure}`);
  }
  return out.join("\n");
}
