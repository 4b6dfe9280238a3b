/**
 * Dev-server middleware: `/healthz` for the stack runner, and the load reports
 * under `/reports/` — an index (`/reports/index.json`) and the files of each run.
 */
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Plugin } from "vite";

/** The files of a report the dashboard serves, with their content types. */
const REPORT_FILES: Record<string, string> = {
  "report.html": "text/html; charset=utf-8",
  "report.md": "text/markdown; charset=utf-8",
  "summary.md": "text/markdown; charset=utf-8",
  "summary.json": "application/json",
};

/** One run's folder, as the reports page lists it. */
export interface ReportEntry {
  id: string;
  scenario: string;
  createdAt: string;
  files: string[];
}

/** Runs under `dir` (newest first): folders `<time>-<scenario>` holding at least one report file. */
export async function listReports(dir: string): Promise<ReportEntry[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const reports: ReportEntry[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const files = (await readdir(path.join(dir, entry.name)).catch(() => [] as string[])).filter((f) => f in REPORT_FILES);
    if (files.length === 0) continue;
    const info = await stat(path.join(dir, entry.name));
    // `<ISO time with : and . as ->-<scenario>`, as loadtest/src/runner/run.ts names them.
    const match = /^(.*\dZ?)-([a-z][a-z0-9-]*)$/.exec(entry.name);
    reports.push({
      id: entry.name,
      scenario: match?.[2] ?? entry.name,
      createdAt: info.mtime.toISOString(),
      files: files.sort(),
    });
  }
  return reports.sort((a, b) => b.id.localeCompare(a.id));
}

function send(res: ServerResponse, status: number, type: string, body: string) {
  res.statusCode = status;
  res.setHeader("content-type", type);
  res.setHeader("cache-control", "no-store");
  res.end(body);
}

/** The plugin: health, the report index and report files (nothing else from that folder). */
export function dashboardServerPlugin(options: { reportsDir: string }): Plugin {
  const handle = async (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/healthz") return send(res, 200, "text/plain", "ok");
    if (!url.pathname.startsWith("/reports/")) return next();
    if (url.pathname === "/reports/index.json") {
      return send(res, 200, "application/json", JSON.stringify({ reports: await listReports(options.reportsDir) }));
    }
    const [id, file, ...rest] = url.pathname.slice("/reports/".length).split("/").map(decodeURIComponent);
    // Only a known file name directly inside a run's folder: no traversal, no other files.
    if (!id || !file || rest.length > 0 || !(file in REPORT_FILES) || id.includes("..") || id.includes("/") || id.startsWith(".")) {
      return send(res, 404, "text/plain", "no such report file");
    }
    const full = path.join(options.reportsDir, id, file);
    try {
      if (!(await stat(full)).isFile()) throw new Error("not a file");
    } catch {
      return send(res, 404, "text/plain", "no such report file");
    }
    res.statusCode = 200;
    res.setHeader("content-type", REPORT_FILES[file]!);
    res.setHeader("cache-control", "no-store");
    createReadStream(full).pipe(res);
  };
  return {
    name: "handshake-dashboard-server",
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        handle(req, res, next).catch((error: unknown) => send(res, 500, "text/plain", String(error)));
      });
    },
  };
}

