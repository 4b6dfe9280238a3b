/**
 * A figure read from the database for a scrape, at most once per `maxAgeMs`:
 * several scrapers (or a scrape storm) share one query, and a failed read keeps
 * the last value rather than failing the whole scrape.
 */
export class SampledFigure<T> {
  private value: T;
  private readAt = 0;
  private inflight: Promise<T> | null = null;

  constructor(
    private readonly read: () => Promise<T>,
    initial: T,
    private readonly maxAgeMs = 1_000,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.value = initial;
  }

  get(): Promise<T> {
    if (Date.now() - this.readAt < this.maxAgeMs) return Promise.resolve(this.value);
    this.inflight ??= this.read()
      .then((v) => {
        this.value = v;
        this.readAt = Date.now();
        return v;
      })
      .catch((err: unknown) => {
        this.onError(err);
        return this.value;
      })
      .finally(() => {
        this.inflight = null;
      });
    return this.inflight;
  }
}
