import { type PopulationSpec } from "./spec";
import { draw, keyOf, unit } from "./hash";
import { countryIndexAt, modelOf } from "./model";
import { nameFrom } from "./names";
import { placementOf, stalePhoneOf, userAt } from "./users";

/*
 * Facebook-side profiles, from the same seed, so both services see one world.
 * Profile ids: j < N is the profile of WhatsApp user j when that user has one
 * (user.facebookProfileId === j), otherwise it does not exist; j in [N, N + F)
 * are people on Facebook but not on WhatsApp (F = facebookOnlyPerUser x N,
 * rounded to a multiple of S). Their phone numbers come from a part of each
 * country's numbering plan no WhatsApp user holds, and stale numbers from yet
 * another part, so a stale number never links to a WhatsApp account.
 */

/** A Facebook profile. */
export interface FacebookProfile {
  id: number;
  /** Same shard as the WhatsApp user for linked profiles; Facebook-only ids are sharded like users. */
  shard: number;
  country: string;
  name: string;
  /** E.164 as Facebook holds it, possibly stale, or null. */
  phone: string | null;
  /** "current": the person's real current number; "stale": an old one. */
  phoneState: "current" | "stale" | "none";
  /** The WhatsApp user this person is, or null for people not on WhatsApp. */
  whatsappUserId: number | null;
}

// Field numbers for Facebook-only draws (append only).
const F_NAME = 0;
const F_PHONE = 1;

/** Total profile id space: N + F (some ids below N are empty, see facebookProfileAt). */
export function facebookIdSpace(spec: PopulationSpec): number {
  return spec.size + modelOf(spec).fbOnly.total;
}

/** Number of Facebook-only profiles (F). */
export function facebookOnlyCount(spec: PopulationSpec): number {
  return modelOf(spec).fbOnly.total;
}

/**
 * Profile j, in O(1): for j < N the linked profile of WhatsApp user j (null when
 * that user has no Facebook profile); for j >= N a person not on WhatsApp.
 */
export function facebookProfileAt(spec: PopulationSpec, j: number): FacebookProfile | null {
  const m = modelOf(spec);
  const N = spec.size;
  if (!Number.isSafeInteger(j) || j < 0 || j >= N + m.fbOnly.total) {
    throw new RangeError(`profile id must be an integer in [0, ${N + m.fbOnly.total}), got ${j}`);
  }
  if (j < N) {
    const user = userAt(spec, j);
    if (user.facebookProfileId === null) return null;
    let phone: string | null = null;
    if (user.facebookPhone === "current") phone = user.phone;
    else if (user.facebookPhone === "stale") {
      const { country, local } = placementOf(m, j);
      phone = stalePhoneOf(m, country, local);
    }
    return { id: j, shard: user.shard, country: user.country, name: user.name, phone, phoneState: user.facebookPhone, whatsappUserId: j };
  }
  const r = j - N;
  const p = m.fbOnly.perm!.forward(r);
  const c = m.countries[countryIndexAt(m.fbOnly.ends, p)]!;
  const local = p - c.fbOnlyStart;
  const key = keyOf(m.fbKey, r);
  const hasPhone = unit(draw(key, F_PHONE)) < spec.facebook.facebookOnlyHasPhone;
  return {
    id: j,
    shard: Math.floor(r / m.fbOnly.shardSize),
    country: c.spec.code,
    name: nameFrom(c.names, draw(key, F_NAME)),
    phone: hasPhone ? c.phones.numberAt(c.count + local) : null,
    phoneState: hasPhone ? "current" : "none",
    whatsappUserId: null,
  };
}

/** The Facebook profile of WhatsApp user i, or null. */
export function facebookProfileOfUser(spec: PopulationSpec, i: number): FacebookProfile | null {
  return facebookProfileAt(spec, i);
}

/**
 * The Facebook profiles of shard s: the linked profiles of the shard's WhatsApp
 * users, then the shard's Facebook-only people (ids N + s*F/S .. N + (s+1)*F/S).
 */
export function* facebookProfilesOfShard(spec: PopulationSpec, s: number): Generator<FacebookProfile> {
  const m = modelOf(spec);
  if (!Number.isSafeInteger(s) || s < 0 || s >= spec.shardCount) {
    throw new RangeError(`shard must be an integer in [0, ${spec.shardCount}), got ${s}`);
  }
  for (let i = s * m.shardSize; i < (s + 1) * m.shardSize; i++) {
    const p = facebookProfileAt(spec, i);
    if (p) yield p;
  }
  const base = spec.size + s * m.fbOnly.shardSize;
  for (let j = base; j < base + m.fbOnly.shardSize; j++) yield facebookProfileAt(spec, j)!;
}
