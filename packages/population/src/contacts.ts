import { type PopulationSpec } from "./spec";
import { type CountryModel, type Model, modelOf } from "./model";
import { type Permutation } from "./permutation";
import { checkUserId, placementOf, userIdAt } from "./users";

/*
 * The contact graph is a configuration model whose stub matching is computable
 * locally, both ways, in O(1) per stub:
 *
 * - Every user belongs to one degree class k (by its in-country index, which is a
 *   keyed permutation of its id, so classes are spread uniformly over ids and shards)
 *   and owns d_k domestic stubs and e_k international stubs. Stubs are numbered
 *   consecutively by (country, class, in-country index), so a user's first stub and
 *   a stub's owner are closed-form (a scan over ~20 classes and ~20 countries).
 * - Stubs are matched by a fixed-point-free involution: t <-> pi^-1(pi(t) XOR 1),
 *   with pi a keyed permutation of the (even-sized) stub space: a uniformly random
 *   perfect matching, as in the configuration model. One involution per country
 *   for domestic stubs, one global one for international stubs.
 * - contacts(i) = owners of the partners of i's stubs, minus i itself, deduplicated.
 *   Because the matching is an involution, j in contacts(i) <=> i in contacts(j).
 *
 * Degree distribution: before removing self-loops and repeated pairs, user degrees
 * are exactly d_k + e_k with class shares per country apportioned exactly from the
 * spec's discretised power law (degrees.ts). Loops and repeats are rare (expected
 * ~ d^2 / stubs of the country), so realised degrees are that minus a vanishing
 * correction; a phantom stub pads odd stub counts and its edge is dropped.
 */

function partner(perm: Permutation, t: number): number {
  const q = perm.forward(t);
  return perm.inverse(q % 2 === 0 ? q + 1 : q - 1);
}

function classIndexAt(bounds: Float64Array, x: number): number {
  let k = 0;
  while (x >= bounds[k + 1]!) k++;
  return k;
}

function domesticOwner(m: Model, c: CountryModel, t: number): number {
  const starts = c.domStart;
  let k = 0;
  while (t >= starts[k + 1]!) k++;
  const local = c.classBounds[k]! + Math.floor((t - starts[k]!) / m.degrees.domestic[k]!);
  return userIdAt(m, c, local);
}

function internationalOwner(m: Model, t: number): number {
  const countries = m.countries;
  let c = 0;
  while (t >= countries[c]!.intlStart[countries[c]!.intlStart.length - 1]!) c++;
  const cm = countries[c]!;
  const starts = cm.intlStart;
  let k = 0;
  while (t >= starts[k + 1]!) k++;
  const local = cm.classBounds[k]! + Math.floor((t - starts[k]!) / m.degrees.international[k]!);
  return userIdAt(m, cm, local);
}

/** Nominal degree of user i (its stub count: an upper bound on its contact count). */
export function degreeOf(spec: PopulationSpec, i: number): number {
  checkUserId(spec, i);
  const m = modelOf(spec);
  const { country, local } = placementOf(m, i);
  const k = classIndexAt(country.classBounds, local);
  return m.degrees.domestic[k]! + m.degrees.international[k]!;
}

/**
 * The contacts of user i, ascending, in O(degree): symmetric (j in contactsOf(i)
 * iff i in contactsOf(j)), heavy-tailed, mostly in i's own country.
 */
export function contactsOf(spec: PopulationSpec, i: number): number[] {
  checkUserId(spec, i);
  const m = modelOf(spec);
  const { country: c, local } = placementOf(m, i);
  const k = classIndexAt(c.classBounds, local);
  const out: number[] = [];
  const d = m.degrees.domestic[k]!;
  if (d > 0 && c.domPerm) {
    const first = c.domStart[k]! + (local - c.classBounds[k]!) * d;
    for (let t = first; t < first + d; t++) {
      const u = partner(c.domPerm, t);
      if (u < c.domStubs) out.push(domesticOwner(m, c, u));
    }
  }
  const e = m.degrees.international[k]!;
  if (e > 0 && m.intlPerm) {
    const first = c.intlStart[k]! + (local - c.classBounds[k]!) * e;
    for (let t = first; t < first + e; t++) {
      const u = partner(m.intlPerm, t);
      if (u < m.intlStubs) out.push(internationalOwner(m, u));
    }
  }
  out.sort((a, b) => a - b);
  let n = 0;
  for (let r = 0; r < out.length; r++) {
    const j = out[r]!;
    if (j !== i && (n === 0 || out[n - 1] !== j)) out[n++] = j;
  }
  out.length = n;
  return out;
}
