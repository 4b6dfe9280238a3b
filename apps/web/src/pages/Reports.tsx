/** Load reports: the runs `pnpm loadtest run` wrote, each report embedded or opened on its own. */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { simTime } from "../format";
import { ErrorNote } from "../widgets";

interface ReportEntry {
  id: string;
  scenario: string;
  createdAt: string;
  files: string[];
}

async function loadReports(): Promise<ReportEntry[]> {
  const response = await fetch("/reports/index.json");
  if (!response.ok) throw new Error(`the report index answered ${response.status}`);
  return ((await response.json()) as { reports: ReportEntry[] }).reports;
}

export function ReportsPage() {
  const reports = useQuery({ queryKey: ["reports"], queryFn: loadReports, refetchInterval: 10_000 });
  const [shown, setShown] = useState<string | null>(null);
  const list = reports.data;
  const current = list?.find((r) => r.id === shown) ?? list?.find((r) => r.files.includes("report.html"));
  return (
    <>
      <h1>Load reports</h1>
      <p className="lede">
        Runs written by <code>pnpm loadtest run</code> under <code>loadtest/reports/</code>: throughput, delivery latency,
        thresholds and the projection to a billion users.
      </p>
      <ErrorNote error={reports.error} what="dashboard server" />
      <section aria-labelledby="runs-title" className="panel">
        <h2 id="runs-title">Runs</h2>
        {list && list.length === 0 ? (
          <p data-testid="reports-empty">
            No report yet. Run <code>pnpm loadtest run steady --shards 4</code> (needs k6), then come back.
          </p>
        ) : (
          <ul className="plain" data-testid="reports-list">
            {list?.map((r) => (
              <li key={r.id}>
                <strong>{r.scenario}</strong> — {r.id} (written {simTime(r.createdAt)}, wall clock){" "}
                {r.files.map((file) => (
                  <a key={file} href={`/reports/${encodeURIComponent(r.id)}/${file}`} target="_blank" rel="noreferrer" className="file-link">
                    {file}
                  </a>
                ))}
                {r.files.includes("report.html") ? (
                  <button type="button" onClick={() => setShown(r.id)} aria-pressed={current?.id === r.id}>
                    Show here
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </section>
      {current?.files.includes("report.html") ? (
        <section aria-labelledby="report-title" className="panel">
          <h2 id="report-title">Report: {current.id}</h2>
          <iframe
            className="report-frame"
            title={`Load report ${current.id}`}
            src={`/reports/${encodeURIComponent(current.id)}/report.html`}
            sandbox=""
          />
        </section>
      ) : null}
    </>
  );
}
