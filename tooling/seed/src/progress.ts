/** A progress bar on stderr (cli-progress), one per phase; a no-op when disabled. */
import cliProgress from "cli-progress";
import type { SeedProgress } from "./seed";

const LABELS: Record<SeedProgress["phase"], string> = {
  seed: "seeding users ",
  fixtures: "writing users.json",
};

/** Returns an `onProgress` callback that drives the bar, and `stop` to clear it. */
export function progressBar(enabled: boolean): { onProgress: (event: SeedProgress) => void; stop: () => void } {
  if (!enabled) return { onProgress: () => {}, stop: () => {} };
  let bar: cliProgress.SingleBar | null = null;
  let phase: SeedProgress["phase"] | null = null;
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  return {
    onProgress(event) {
      if (event.phase !== phase) {
        stop();
        phase = event.phase;
        bar = new cliProgress.SingleBar(
          {
            format: `${LABELS[event.phase]} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}`,
            stream: process.stderr,
            fps: 5,
            etaBuffer: 20,
            // forced with --progress on a pipe or file: a line every 2 s instead
            noTTYOutput: true,
            notTTYSchedule: 2000,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(event.total, event.done);
      }
      bar?.update(event.done);
    },
    stop,
  };
}
