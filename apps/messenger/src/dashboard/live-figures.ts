/**
 * Figures as a stream: while anyone listens, one reader samples them every
 * `intervalMs` and every listener gets each sample, so ten open dashboards cost
 * the database one read per interval, not ten. Each sample has a sequence number
 * (the subscription's tracked id). One per kind of figure per server, kept in the
 * messenger's services, never module state.
 */
export interface Sample<T> {
  seq: number;
  value: T;
}

export interface LiveFiguresOptions {
  intervalMs?: number;
  /** Told about a failed read; the stream keeps the last sample and tries again next interval. */
  onError?: (error: unknown) => void;
}

export class LiveFigures<T> {
  private latest: Sample<T> | null = null;
  private seq = 0;
  private listeners = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private reading = false;
  private read: (() => Promise<T>) | null = null;
  private readonly waiting = new Set<() => void>();
  private readonly intervalMs: number;

  constructor(private readonly options: LiveFiguresOptions = {}) {
    this.intervalMs = options.intervalMs ?? 1_000;
  }

  /** Listeners right now (for tests and health). */
  get listening(): number {
    return this.listeners;
  }

  /**
   * Yields the newest sample now (read fresh when no one was listening), then each
   * new one, until `signal` aborts. `read` is how to read the figures.
   */
  async *stream(read: () => Promise<T>, signal?: AbortSignal): AsyncGenerator<Sample<T>> {
    this.read = read;
    this.listeners += 1;
    if (this.listeners === 1) this.start();
    try {
      let seen = 0;
      while (!signal?.aborted) {
        const sample = this.latest && this.latest.seq > seen ? this.latest : await this.nextSample(signal);
        if (!sample) return;
        seen = sample.seq;
        yield sample;
      }
    } finally {
      this.listeners -= 1;
      if (this.listeners === 0) this.stop();
    }
  }

  private start(): void {
    // A sample from before anyone listened is stale: start over.
    this.latest = null;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async sample(): Promise<void> {
    // A read slower than the interval is not overtaken by the next one.
    if (this.reading || !this.read) return;
    this.reading = true;
    try {
      this.seq += 1;
      this.latest = { seq: this.seq, value: await this.read() };
      for (const wake of this.waiting) wake();
    } catch (error) {
      this.options.onError?.(error);
    } finally {
      this.reading = false;
    }
  }

  private nextSample(signal?: AbortSignal): Promise<Sample<T> | null> {
    return new Promise((resolve) => {
      const done = () => {
        this.waiting.delete(wake);
        signal?.removeEventListener("abort", aborted);
      };
      const wake = () => {
        done();
        resolve(this.latest);
      };
      const aborted = () => {
        done();
        resolve(null);
      };
      this.waiting.add(wake);
      signal?.addEventListener("abort", aborted, { once: true });
    });
  }
}
