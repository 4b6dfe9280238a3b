/**
 * Time as the messenger sees it. Everything that stamps or expires data reads
 * a `Clock`, never `new Date()`, so a simulation clock can make 30 days pass in
 * seconds.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock an operator may move (forward only) through the admin API. */
export interface AdjustableClock extends Clock {
  /** Jump to `at`; refuses to go back in time. */
  set(at: Date): void;
  advance(ms: number): void;
}

export class ClockMovedBackwards extends Error {
  constructor(now: Date, requested: Date) {
    super(`the simulation clock only moves forward: it is ${now.toISOString()}, ${requested.toISOString()} is earlier`);
  }
}

/**
 * Simulated time that flows at real speed from a starting point and can be moved
 * forward: `now = simMs + (realNow - realMs)`. Going backwards is refused, since
 * recorded history (consent choices, queued envelopes) must stay in order.
 */
export class SimClock implements AdjustableClock {
  private simMs: number;
  private realMs: number;

  constructor(
    start: Date | { simMs: number; realMs: number },
    private readonly realNow: () => number = () => Date.now(),
  ) {
    if (start instanceof Date) {
      this.simMs = start.getTime();
      this.realMs = this.realNow();
    } else {
      this.simMs = start.simMs;
      this.realMs = start.realMs;
    }
  }

  now(): Date {
    return new Date(this.simMs + (this.realNow() - this.realMs));
  }

  set(at: Date): void {
    const now = this.now();
    if (at.getTime() < now.getTime()) throw new ClockMovedBackwards(now, at);
    this.simMs = at.getTime();
    this.realMs = this.realNow();
  }

  advance(ms: number): void {
    if (ms < 0) throw new ClockMovedBackwards(this.now(), new Date(this.now().getTime() + ms));
    this.set(new Date(this.now().getTime() + ms));
  }

  /**
   * Takes `state` (another node's move, read from the database) if it is later than
   * this clock; an earlier one is ignored, never an error. Returns whether it moved.
   */
  adopt(state: { simMs: number; realMs: number }): boolean {
    if (state.simMs - state.realMs <= this.simMs - this.realMs) return false;
    this.simMs = state.simMs;
    this.realMs = state.realMs;
    return true;
  }

  state(): { simMs: number; realMs: number } {
    return { simMs: this.simMs, realMs: this.realMs };
  }
}

/** Where simulated time starts by default: a few days before the 2016-08-25 announcement. */
export const DEFAULT_SIM_START = new Date("2016-08-20T08:00:00Z");

export function isAdjustable(clock: Clock): clock is AdjustableClock {
  return typeof (clock as AdjustableClock).set === "function" && typeof (clock as AdjustableClock).advance === "function";
}
