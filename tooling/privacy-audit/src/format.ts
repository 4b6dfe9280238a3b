/** The audit report as the table the CLI prints. */
import type { AuditReport } from "./audit";

/** A plain-text table (check, rows examined, breaches, verdict), then examples of each failed check and the notes. */
export function formatReport(report: AuditReport): string {
  const header = ["check", "rows examined", "breaches", "verdict"];
  const rows = report.checks.map((c) => [c.title, c.examined.toLocaleString("en-US"), c.breaches.toLocaleString("en-US"), c.verdict.toUpperCase()]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ").trimEnd();
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line), ""];
  for (const check of report.checks) {
    if (check.verdict === "fail") {
      out.push(`${check.title}: ${check.breaches} breach${check.breaches === 1 ? "" : "es"}, for example`);
      for (const b of check.examples) out.push(`  - ${b.where} ${b.row}: ${b.reason}`);
    }
  }
  const notes = report.checks.flatMap((c) => c.notes.map((n) => `  - check ${c.title.split(" ")[0]}: ${n}`));
  if (notes.length > 0) out.push("notes:", ...notes);
  const failed = report.checks.filter((c) => c.verdict === "fail").length;
  const rate = report.durationMs > 0 ? Math.round(report.examined / (report.durationMs / 1000)) : 0;
  out.push(
    "",
    `${failed === 0 ? "PASS" : "FAIL"}: ${failed} of ${report.checks.length} checks failed, ${report.breaches} breaches; ` +
      `${report.examined.toLocaleString("en-US")} rows in ${(report.durationMs / 1000).toFixed(1)} s (${rate.toLocaleString("en-US")} rows/s); ` +
      `simulated now ${report.now.toISOString()}`,
  );
  return `${out.join("\n")}\n`;
}
