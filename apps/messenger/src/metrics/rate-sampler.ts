/**
 * Live rates for the dashboard: counter samples taken whenever the overview is
 * read, turned into per-second rates over the last minute. One per server (it is
 * part of the messenger's services), never module state.
 */

/** Live rates are measured over this much wall-clock time. */
export const RATE_WINDOW_MS = 60_000;

export interface RateSample {
  realMs: number;
  /** Last value of the envelope id sequence: envelopes ever stored (messages and delivery receipts). */
  stored: number;
  /** Envelope rows deleted (acknowledged, or expired), from PostgreSQL's table statistics. */
  deleted: number;
  /** Operations the queue writer committed (sends and acks). */
  writerOps: number;
}

export class RateSampler {
  private readonly samples: RateSample[] = [];

  constructor(private readonly windowMs = RATE_WINDOW_MS) {}

  record(sample: RateSample): void {
    this.samples.push(sample);
    // Keep one sample older than the window, so a full window can be measured.
    while (this.samples.length > 2 && this.samples[1]!.realMs <= sample.realMs - this.windowMs) this.samples.shift();
    if (this.samples.length > 600) this.samples.shift();
  }

  /** Per-second rates between the oldest sample in the window and the newest; null until two samples exist. */
  rates(): { seconds: number; storedPerSecond: number; deliveredPerSecond: number; writerOpsPerSecond: number } | null {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.realMs - first.realMs < 500) return null;
    const seconds = (last.realMs - first.realMs) / 1000;
    const per = (pick: (s: RateSample) => number) => Math.max(0, (pick(last) - pick(first)) / seconds);
    return {
      seconds,
      storedPerSecond: per((s) => s.stored),
      deliveredPerSecond: per((s) => s.deleted),
      writerOpsPerSecond: per((s) => s.writerOps),
    };
  }
}
