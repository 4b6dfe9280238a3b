/**
 * Generation throughput on one core: `pnpm --filter @handshake/population bench`.
 * Each row is the median of RUNS timed runs after a warm-up.
 */
import { contactsOf, createSpec, facebookProfileAt, userAt, userCoreAt } from "../src/index";

const RUNS = 5;
const spec = createSpec();
const STRIDE = 4_999_963; // spread ids over the whole population and every country

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs `body(n)` RUNS times; returns the median rate in units/s (body returns units done). */
function measure(body: () => number): number {
  body();
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    const units = body();
    rates.push(units / ((performance.now() - t) / 1000));
  }
  return median(rates);
}

let sink = 0;
const rows: Array<[string, string, number]> = [];
const N = 500_000;
rows.push(["userCoreAt (no name)", "users/s", measure(() => {
  for (let k = 0; k < N; k++) sink += userCoreAt(spec, (k * STRIDE) % spec.size).phone.length;
  return N;
})]);
rows.push(["userAt (with name)", "users/s", measure(() => {
  for (let k = 0; k < N; k++) sink += userAt(spec, (k * STRIDE) % spec.size).name.length;
  return N;
})]);
rows.push(["userAt, contiguous shard sweep", "users/s", measure(() => {
  for (let k = 0; k < N; k++) sink += userAt(spec, 300_000_000 + k).name.length;
  return N;
})]);
rows.push(["userAt + contactsOf", "users/s", measure(() => {
  const n = 20_000;
  for (let k = 0; k < n; k++) {
    const i = (k * STRIDE) % spec.size;
    sink += userAt(spec, i).name.length + contactsOf(spec, i).length;
  }
  return n;
})]);
rows.push(["contactsOf", "contacts/s", measure(() => {
  let c = 0;
  for (let k = 0; k < 20_000; k++) c += contactsOf(spec, (k * STRIDE) % spec.size).length;
  return c;
})]);
rows.push(["facebookProfileAt (Facebook-only)", "profiles/s", measure(() => {
  for (let k = 0; k < N; k++) sink += facebookProfileAt(spec, spec.size + k * 2003)!.name.length;
  return N;
})]);

const w = Math.max(...rows.map(([n]) => n.length));
console.log(`population bench: one core, median of ${RUNS} runs, N = ${spec.size.toLocaleString("en")}, node ${process.version}`);
console.log(`${"operation".padEnd(w)}  ${"rate".padStart(12)}  unit`);
for (const [name, unit, rate] of rows) console.log(`${name.padEnd(w)}  ${Math.round(rate).toLocaleString("en").padStart(12)}  ${unit}`);
if (sink === -1) console.log(sink);
