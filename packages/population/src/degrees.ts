import { type ContactsSpec } from "./spec";

/** The degree classes of the contact graph: every user belongs to exactly one. */
export interface DegreeClasses {
  /** Share of users in each class (sums to 1). */
  weights: number[];
  /** Contact slots inside the user's country. */
  domestic: number[];
  /** Contact slots abroad. */
  international: number[];
  /** Mean of domestic + international over the class weights. */
  mean: number;
}

const RATIO = Math.SQRT2;

function classesFrom(dmin: number, spec: ContactsSpec): { degrees: number[]; weights: number[] } {
  const degrees: number[] = [];
  const weights: number[] = [];
  for (let d = dmin; ; d *= RATIO) {
    const capped = Math.min(d, spec.maxDegree);
    // log-spaced bins of a power law P(d) ~ d^-alpha hold mass ~ d^(1-alpha)
    degrees.push(capped);
    weights.push(d ** (1 - spec.exponent));
    if (d >= spec.maxDegree) break;
  }
  return { degrees, weights };
}

function meanOf(degrees: number[], weights: number[]): number {
  const w = weights.reduce((s, x) => s + x, 0);
  return degrees.reduce((s, d, k) => s + d * weights[k]!, 0) / w;
}

/**
 * Discretised power law: classes at dmin * sqrt(2)^k up to maxDegree, with
 * P(class k) proportional to degree^(1 - exponent); dmin found by bisection so that
 * the mean degree (after rounding degrees to integers) is close to meanDegree.
 */
export function degreeClasses(spec: ContactsSpec): DegreeClasses {
  let lo = 1;
  let hi = spec.meanDegree;
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    const c = classesFrom(mid, spec);
    if (meanOf(c.degrees.map(Math.round), c.weights) < spec.meanDegree) lo = mid;
    else hi = mid;
  }
  const { degrees, weights } = classesFrom((lo + hi) / 2, spec);
  const total = weights.reduce((s, x) => s + x, 0);
  const rounded = degrees.map((d) => Math.max(1, Math.round(d)));
  const international = rounded.map((d) => Math.round(d * spec.internationalShare));
  const shares = weights.map((w) => w / total);
  return {
    weights: shares,
    domestic: rounded.map((d, k) => d - international[k]!),
    international,
    mean: meanOf(rounded, shares),
  };
}
