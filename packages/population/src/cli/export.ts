import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { type Writable } from "node:stream";
import { shardRange } from "../shards";
import { type User, userAt } from "../users";
import { SAMPLE_OPTIONS, UsageError, intOption, parse, sampleFrom } from "./args";
import { resolveOutput } from "./env";
import { progress, wantProgress } from "./progress";

export const EXPORT_USAGE = `export --shards 0-3 [--limit n] [--format ndjson|csv] [--out file] [--shard-count S] [--seed n] [--size N] [--progress]
  Writes the users of the sample (id order, shard by shard) to stdout or --out
  (relative to the directory you ran pnpm from).`;

/** CSV columns, in order: every field of User. */
export const CSV_COLUMNS: ReadonlyArray<keyof User> = [
  "id", "shard", "country", "phone", "name", "os", "osVersion", "appVersion", "deviceModel", "registeredAt",
  "activity", "messagesPerDay", "facebookProfileId", "facebookPhone", "consent", "acceptsAfterDays",
  "optsOutAfterDays", "business",
];

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One user as a line of the format (registeredAt as ISO 8601). */
export function formatUser(u: User, format: "ndjson" | "csv"): string {
  if (format === "ndjson") return `${JSON.stringify({ ...u, registeredAt: new Date(u.registeredAt).toISOString() })}\n`;
  return `${CSV_COLUMNS.map((c) => csvCell(c === "registeredAt" ? new Date(u.registeredAt).toISOString() : u[c])).join(",")}\n`;
}

async function write(out: Writable, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, "drain");
}

/** `population export`. */
export async function exportCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, { ...SAMPLE_OPTIONS, limit: { type: "string" }, format: { type: "string" }, out: { type: "string" } });
  if (values.help) {
    process.stdout.write(`${EXPORT_USAGE}\n`);
    return;
  }
  const format = values.format ?? "ndjson";
  if (format !== "ndjson" && format !== "csv") throw new UsageError(`--format must be ndjson or csv, got "${format}"`);
  const { spec, shards } = sampleFrom(values);
  const perShard = spec.size / spec.shardCount;
  const limit = intOption("limit", values.limit, shards.length * perShard, 0);
  const total = Math.min(limit, shards.length * perShard);
  const out: Writable = values.out === undefined ? process.stdout : createWriteStream(resolveOutput(values.out));
  const bar = progress("export", total, wantProgress(values.progress));
  let buffer = format === "csv" ? `${CSV_COLUMNS.join(",")}\n` : "";
  let n = 0;
  outer: for (const s of shards) {
    const { start, end } = shardRange(spec, s);
    for (let i = start; i < end; i++) {
      if (n >= total) break outer;
      buffer += formatUser(userAt(spec, i), format);
      n++;
      if (buffer.length > 1 << 20) {
        await write(out, buffer);
        buffer = "";
        bar.tick(0);
      }
      if ((n & 4095) === 0) bar.tick(4096);
    }
  }
  if (buffer) await write(out, buffer);
  bar.stop();
  if (out !== process.stdout) {
    out.end();
    await once(out, "finish");
    process.stderr.write(`wrote ${n} users to ${resolveOutput(values.out!)}\n`);
  }
}
