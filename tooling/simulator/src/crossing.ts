/**
 * How the simulator moves the clock across a regulator's date: it brings the clock
 * to `APPROACH_MS` before the date and lets it flow past at real speed. At 3 days a
 * second a share event built a moment before the Hamburg order and shipped 100 ms
 * later would reach Facebook seven simulated hours after it, and be processed
 * (linked) under the ban; crossing at real speed keeps the simulated delay what it
 * is in real life, a few milliseconds.
 */
import { HISTORICAL_2016 } from "@handshake/consent";

/** The dated steps of `historical-2016` (new terms, Hamburg, the ICO, the EU pause), in ms, ascending. */
export const REGULATOR_DATES: readonly number[] = (HISTORICAL_2016.dated ?? []).map((d) => d.from.getTime()).sort((a, b) => a - b);

/** Simulated ms before a date from which the clock runs at real speed only. */
export const APPROACH_MS = 2_000;

/**
 * The simulated ms to add to a clock at `simNow` when `wantMs` are asked: all of
 * them, unless that would bring the clock within `APPROACH_MS` of a date or past it;
 * then only up to `APPROACH_MS` before it (0 when already that close).
 */
export function boundedAdvance(simNow: number, wantMs: number, dates: readonly number[] = REGULATOR_DATES): number {
  const next = dates.find((d) => d > simNow);
  if (next === undefined || simNow + wantMs < next - APPROACH_MS) return wantMs;
  return Math.max(0, Math.floor(Math.min(wantMs, next - APPROACH_MS - simNow)));
}
