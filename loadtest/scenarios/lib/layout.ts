/**
 * Who holds a connection and which holder VU holds whom. Built once per k6 process:
 * a SharedArray's builder runs once and its elements are shared; reading an element
 * parses and deep-freezes it (grafana/k6 internal/js/modules/k6/data/data.go: the
 * builder is "executed once for a given name"; share.go Get parses and freezes),
 * so a VU reads a small index once and then only the groups it needs.
 */
import { SharedArray } from "k6/data";
import { config } from "./config.ts";
import { users } from "./fixtures.ts";

export interface ConnectedLayout {
  size: number;
  /** Holder VUs: one per group of USERS_PER_VU connected users. */
  vus: number;
  groupOf(slot: number): number[];
  has(index: number): boolean;
  /** A connected user at random. */
  random(): number;
  /** A connected user at random, weighted by messages per day (who sends next). */
  randomSender(): number;
}

interface LayoutMeta {
  size: number;
  /** First user index of each group (groups hold ascending indexes). */
  firsts: number[];
  /** Running total of each group's send weight (messages per day). */
  cumulative: number[];
}

interface Group {
  members: number[];
  /** Running total of the members' send weights. */
  cumulative: number[];
}

const weightOf = (messagesPerDay: number) => Math.max(0.1, messagesPerDay);

function pick(cumulative: number[]): number {
  const u = Math.random() * (cumulative[cumulative.length - 1] ?? 0);
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `build` returns the connected users' indexes in ascending order; it runs once per process. */
export function layoutOf(name: string, build: () => number[]): ConnectedLayout {
  const stored = new SharedArray<LayoutMeta | Group>(name, () => {
    const connected = build();
    const groups: Group[] = [];
    const meta: LayoutMeta = { size: connected.length, firsts: [], cumulative: [] };
    let total = 0;
    for (let at = 0; at < connected.length; at += config.usersPerVu) {
      const members = connected.slice(at, at + config.usersPerVu);
      const cumulative: number[] = [];
      let sum = 0;
      for (const i of members) cumulative.push((sum += weightOf(users[i]!.messagesPerDay)));
      groups.push({ members, cumulative });
      meta.firsts.push(members[0]!);
      meta.cumulative.push((total += sum));
    }
    return [meta, ...groups];
  });
  const meta = stored[0] as LayoutMeta;
  const group = (slot: number): Group => (slot >= 0 && slot < meta.firsts.length ? (stored[slot + 1] as Group) : { members: [], cumulative: [] });
  return {
    size: meta.size,
    vus: Math.max(1, meta.firsts.length),
    groupOf: (slot) => group(slot).members,
    has(index) {
      let lo = 0;
      let hi = meta.firsts.length - 1;
      if (hi < 0 || index < meta.firsts[0]!) return false;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (meta.firsts[mid]! <= index) lo = mid;
        else hi = mid - 1;
      }
      return group(lo).members.includes(index);
    },
    random() {
      const members = group(Math.floor(Math.random() * meta.firsts.length)).members;
      return members[Math.floor(Math.random() * members.length)]!;
    },
    randomSender() {
      const g = group(pick(meta.cumulative));
      return g.members[pick(g.cumulative)]!;
    },
  };
}

/** The first `count` non-business users of the sample (population order is a uniform sample). */
export function firstPeople(count: number): () => number[] {
  return () => {
    const out: number[] = [];
    for (let i = 0; i < users.length && out.length < count; i++) if (!users[i]!.business) out.push(i);
    return out;
  };
}
