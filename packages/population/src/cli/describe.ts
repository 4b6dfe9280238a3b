import { type PopulationSpec } from "../spec";
import { contactsOf } from "../contacts";
import { sampleMembership, shardRange } from "../shards";
import { userCoreAt } from "../users";
import { SAMPLE_OPTIONS, parse, sampleFrom } from "./args";
import { progress, wantProgress } from "./progress";
import { pct, table } from "./table";

export const DESCRIBE_USAGE = `describe --shards 0-3 [--shard-count S] [--seed n] [--size N] [--progress]
  Prints a table of the sample: users, countries, OS, degree percentiles, share of
  contacts inside the sample, Facebook profiles and expected consent outcomes.`;

function percentile(sorted: Int32Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Computes the description of a sample as text. */
export function describeSample(spec: PopulationSpec, shards: number[], showProgress: boolean): string {
  const total = shards.length * (spec.size / spec.shardCount);
  const inSample = sampleMembership(spec, shards);
  const countries = new Map<string, number>();
  const os = new Map<string, number>();
  const consent = new Map<string, number>();
  const activity = new Map<string, number>();
  const fbPhone = new Map<string, number>();
  const degrees = new Int32Array(total);
  let contacts = 0;
  let inside = 0;
  let domestic = 0;
  let checked = 0;
  let messages = 0;
  let business = 0;
  let n = 0;
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const countryOf = new Map<number, string>();
  const bar = progress("describe", total, showProgress);
  for (const s of shards) {
    const { start, end } = shardRange(spec, s);
    for (let i = start; i < end; i++) {
      const u = userCoreAt(spec, i);
      bump(countries, u.country);
      bump(os, u.os);
      bump(consent, u.consent);
      bump(activity, u.activity);
      bump(fbPhone, u.facebookProfileId === null ? "no profile" : `profile, phone ${u.facebookPhone}`);
      messages += u.messagesPerDay;
      if (u.business) business++;
      const cs = contactsOf(spec, i);
      degrees[n++] = cs.length;
      contacts += cs.length;
      // the country of a contact costs a user lookup: check it on every 8th user only
      const check = (i & 7) === 0;
      if (check) checked += cs.length;
      for (const j of cs) {
        if (inSample(j)) inside++;
        if (check) {
          let c = countryOf.get(j);
          if (c === undefined) {
            c = userCoreAt(spec, j).country;
            if (countryOf.size < 1_000_000) countryOf.set(j, c);
          }
          if (c === u.country) domestic++;
        }
      }
      if ((n & 1023) === 0) bar.tick(1024);
    }
  }
  bar.stop();
  degrees.sort();

  const sortDesc = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  const specShare = new Map(spec.countries.map((c) => [c.code, c.weight / spec.countries.reduce((s, x) => s + x.weight, 0)]));
  const osShare = { android: spec.os.android.weight, ios: spec.os.ios.weight, other: spec.os.other.weight } as Record<string, number>;
  const osTotal = Object.values(osShare).reduce((s, x) => s + x, 0);
  const out: string[] = [];
  out.push(
    table("Sample", ["", "value"], [
      ["seed", spec.seed],
      ["population N", spec.size.toLocaleString("en")],
      ["shards", `${shards.length} of ${spec.shardCount} (${compactShards(shards)})`],
      ["users", total.toLocaleString("en")],
      ["mean messages/day", (messages / Math.max(1, n)).toFixed(1)],
      ["businesses", pct(business, n)],
    ]),
  );
  out.push(
    table("Countries", ["country", "users", "share", "spec"], sortDesc(countries).map(([c, k]) => [c, k, pct(k, n), pct(specShare.get(c) ?? 0, 1)])),
  );
  out.push(table("OS", ["os", "users", "share", "spec"], sortDesc(os).map(([o, k]) => [o, k, pct(k, n), pct(osShare[o]! / osTotal, 1)])));
  out.push(table("Activity", ["class", "users", "share"], sortDesc(activity).map(([a, k]) => [a, k, pct(k, n)])));
  out.push(
    table("Contacts", ["", "value"], [
      ["mean degree", (contacts / Math.max(1, n)).toFixed(2)],
      ["p50 / p90 / p99", `${percentile(degrees, 0.5)} / ${percentile(degrees, 0.9)} / ${percentile(degrees, 0.99)}`],
      ["p99.9 / max", `${percentile(degrees, 0.999)} / ${degrees[degrees.length - 1] ?? 0}`],
      ["contacts inside the sample", pct(inside, contacts)],
      ["contacts in the same country (1/8 of users)", pct(domestic, checked)],
    ]),
  );
  out.push(table("Facebook", ["", "users", "share"], sortDesc(fbPhone).map(([k, v]) => [k, v, pct(v, n)])));
  const order = ["accepts", "unticks", "opts-out-later", "never-accepts", "registered-after"];
  out.push(
    table(
      "Consent (expected outcomes of the Aug 2016 terms)",
      ["behaviour", "users", "share"],
      order.map((k) => [k, consent.get(k) ?? 0, pct(consent.get(k) ?? 0, n)]),
    ),
  );
  const sharedForAds = (consent.get("accepts") ?? 0) + (consent.get("registered-after") ?? 0);
  out.push(`Under the opt-out regime, ${pct(sharedForAds, n)} of the sample's accounts (accepted ticked, or registered after) end up shared for ads and products;\n` +
    `${pct(n - (consent.get("never-accepts") ?? 0), n)} keep using WhatsApp and are shared for metrics, security and spam.\n`);
  return out.join("\n");
}

function compactShards(shards: number[]): string {
  const parts: string[] = [];
  for (let k = 0; k < shards.length; ) {
    let e = k;
    while (e + 1 < shards.length && shards[e + 1] === shards[e]! + 1) e++;
    parts.push(e === k ? `${shards[k]}` : `${shards[k]}-${shards[e]}`);
    k = e + 1;
  }
  return parts.length > 6 ? `${parts.slice(0, 6).join(",")},…` : parts.join(",");
}

/** `population describe`. */
export function describeCommand(argv: string[]): void {
  const { values } = parse(argv, SAMPLE_OPTIONS);
  if (values.help) {
    process.stdout.write(`${DESCRIBE_USAGE}\n`);
    return;
  }
  const { spec, shards } = sampleFrom(values);
  process.stdout.write(describeSample(spec, shards, wantProgress(values.progress)));
}
