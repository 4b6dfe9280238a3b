/**
 * Progress on stderr (cli-progress): one bar per phase, shown together since the
 * fixtures are written while the databases are seeded; the database bar also shows
 * the rows added so far per target (messenger, facebook). A no-op when disabled.
 */
import cliProgress from "cli-progress";
import { count } from "./report";
import type { SeedProgress } from "./seed";

const LABELS: Record<SeedProgress["phase"], string> = {
  seed: "databases ",
  fixtures: "users.json",
};

/** "  messenger 812,000 rows · facebook 301,000 rows", or nothing. */
function rowsText(rows: SeedProgress["rows"]): string {
  if (!rows) return "";
  return "  " + Object.entries(rows).map(([target, n]) => `${target} ${count(n)} rows`).join(" · ");
}

/** Returns an `onProgress` callback that drives the bars, and `stop` to end them. */
export function progressBar(enabled: boolean): { onProgress: (event: SeedProgress) => void; stop: () => void } {
  if (!enabled) return { onProgress: () => {}, stop: () => {} };
  let multi: cliProgress.MultiBar | null = null;
  const bars = new Map<SeedProgress["phase"], cliProgress.SingleBar>();
  return {
    onProgress(event) {
      multi ??= new cliProgress.MultiBar(
        {
          format: "{label} [{bar}] {percentage}% {value}/{total} users  eta {eta_formatted}{rows}",
          stream: process.stderr,
          fps: 5,
          etaBuffer: 20,
          hideCursor: true,
          // forced with --progress on a pipe or file: a line every 2 s instead
          noTTYOutput: true,
          notTTYSchedule: 2000,
        },
        cliProgress.Presets.shades_classic,
      );
      const bar = bars.get(event.phase);
      const payload = { label: LABELS[event.phase], rows: rowsText(event.rows) };
      if (bar) bar.update(event.done, payload);
      else bars.set(event.phase, multi.create(event.total, event.done, payload));
    },
    stop() {
      multi?.stop();
      multi = null;
    },
  };
}
