/**
 * Simulation speed: how much simulated time passes per real second. Written as
 * `<amount><unit>/<real unit>` (`1d/min`, `1d/s`, `6h/s`, `30min/s`), `realtime`
 * (the messenger's clock on its own) or `pause` (the simulator stops acting; the
 * messenger's clock still runs at real speed, it has no pause).
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

export interface Speed {
  /** The text it was parsed from, normalised (`1d/min`). */
  label: string;
  /** Simulated milliseconds per real second; 0 when paused. */
  simMsPerSecond: number;
}

export const PAUSE: Speed = { label: "pause", simMsPerSecond: 0 };
export const REALTIME: Speed = { label: "realtime", simMsPerSecond: 1_000 };

/** Parses a speed; throws a RangeError that says what is accepted. */
export function parseSpeed(text: string): Speed {
  const t = text.trim().toLowerCase();
  if (t === "pause" || t === "paused") return PAUSE;
  if (t === "realtime" || t === "1s/s") return REALTIME;
  const match = /^(\d+(?:\.\d+)?)(ms|s|min|h|d)\/(s|min|h)$/.exec(t);
  const sim = match ? Number(match[1]) * UNIT_MS[match[2]!]! : NaN;
  const per = match ? UNIT_MS[match[3]!]! / 1_000 : NaN;
  if (!match || !(sim > 0)) {
    throw new RangeError(`speed "${text}": expected pause, realtime or <n><ms|s|min|h|d>/<s|min|h>, e.g. 1d/min or 1d/s`);
  }
  const simMsPerSecond = sim / per;
  // 30 simulated days per real second is the most the clock API and the world keep up with
  if (simMsPerSecond > 30 * UNIT_MS.d!) throw new RangeError(`speed "${text}" is faster than 30d/s`);
  if (simMsPerSecond < 1_000) throw new RangeError(`speed "${text}" is slower than real time (use pause)`);
  return { label: t, simMsPerSecond };
}
