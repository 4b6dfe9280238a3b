/**
 * Progress on stderr (cli-progress): one bar per phase, shown together since the
 * fixtures are written while the database is seeded. A no-op when disabled.
 */
import cliProgress from "cli-progress";
import type { SeedProgress } from "./seed";

const LABELS: Record<SeedProgress["phase"], string> = {
  seed: "database  ",
  fixtures: "users.json",
};

/** Returns an `onProgress` callback that drives the bars, and `stop` to end them. */
export function progressBar(enabled: boolean): { onProgress: (event: SeedProgress) => void; stop: () => void } {
  if (!enabled) return { onProgress: () => {}, stop: () => {} };
  let multi: cliProgress.MultiBar | null = null;
  const bars = new Map<SeedProgress["phase"], cliProgress.SingleBar>();
  return {
    onProgress(event) {
      multi ??= new cliProgress.MultiBar(
        {
          format: "{label} [{bar}] {percentage}% {value}/{total} users  eta {eta_formatted}",
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
      if (bar) bar.update(event.done);
      else bars.set(event.phase, multi.create(event.total, event.done, { label: LABELS[event.phase] }));
    },
    stop() {
      multi?.stop();
      multi = null;
    },
  };
}
