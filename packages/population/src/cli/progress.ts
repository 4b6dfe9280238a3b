import cliProgress from "cli-progress";

/** A progress bar on stderr, or a no-op when stderr is not a terminal and --progress is off. */
export interface Progress {
  tick(n?: number): void;
  stop(): void;
}

/** Starts a progress bar over `total` units when `enabled`. */
export function progress(label: string, total: number, enabled: boolean): Progress {
  if (!enabled) return { tick: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}`,
      stream: process.stderr,
      fps: 5,
      etaBuffer: 50,
      // forced with --progress on a pipe or file: print a line every 2 s instead
      noTTYOutput: true,
      notTTYSchedule: 2000,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  let done = 0;
  return {
    tick(n = 1) {
      done += n;
      bar.update(done);
    },
    stop() {
      bar.stop();
    },
  };
}

/** Whether to show progress: forced by --progress, otherwise only on a terminal. */
export function wantProgress(flag: boolean | undefined): boolean {
  return flag === true || process.stderr.isTTY === true;
}
