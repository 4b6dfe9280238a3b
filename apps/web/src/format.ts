/** How the dashboard writes numbers, rates, durations and simulated times. */

const integer = new Intl.NumberFormat("en-US");

/** 12,345 */
export function count(n: number): string {
  return integer.format(n);
}

/** 1.5/s, 120/s */
export function perSecond(n: number): string {
  return `${n < 10 ? n.toFixed(1) : integer.format(Math.round(n))}/s`;
}

/** 42 %, 3.1 % */
export function percent(part: number, whole: number): string {
  if (whole === 0) return "–";
  const p = (100 * part) / whole;
  return `${p < 10 && p > 0 ? p.toFixed(1) : Math.round(p)} %`;
}

/** 850 ms, 12.3 s, 4 min */
export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** 2016-08-25 14:03 UTC */
export function simTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}
