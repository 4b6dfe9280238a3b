/**
 * A source of the current time. The consent rules never read the clock themselves:
 * every decision takes `at: Date`. Services hold a `Clock` and pass `clock.now()` in,
 * which lets a simulation clock run the 30-day rollout in seconds.
 */
export interface Clock {
  now(): Date;
}

/** A clock that always answers the same instant (a fresh copy each call, so callers cannot mutate it). */
export function fixedClock(date: Date): Clock {
  const ms = date.getTime();
  return { now: () => new Date(ms) };
}
