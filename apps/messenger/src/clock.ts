/**
 * Time as the messenger sees it. Everything that stamps or expires data reads
 * this, never `new Date()`, so a simulation clock can make 30 days pass in seconds.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
