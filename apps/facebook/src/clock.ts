/**
 * Simulated time on the Facebook side. The simulation clock belongs to the
 * messenger (admins move it there); this side follows it by asking now and then
 * and extrapolating in between, so audit rows carry simulated time too.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export class FollowedClock implements Clock {
  private simMs: number | null = null;
  private realMs = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly fetchNow: () => Promise<Date>,
    intervalMs = 1_000,
  ) {
    this.timer = setInterval(() => void this.sync(), intervalMs);
    this.timer.unref();
  }

  /** Reads the remote clock once (call before serving). */
  async sync(): Promise<void> {
    try {
      const now = await this.fetchNow();
      this.simMs = now.getTime();
      this.realMs = Date.now();
    } catch {
      // Keep extrapolating from the last reading; the next tick tries again.
    }
  }

  now(): Date {
    return this.simMs === null ? new Date() : new Date(this.simMs + (Date.now() - this.realMs));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
