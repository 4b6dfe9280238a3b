/**
 * The fixture files the k6 scripts read (format: loadtest/docs/fixtures.md):
 * meta.json and users.json, one object per user of the sample in population order.
 * users.json is streamed (a 4-shard sample of 1e9 users is 400k users with ~40
 * contacts each, ~100 MB), through a temporary file renamed into place so a reader
 * never sees half a file.
 */
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import path from "node:path";
import { once } from "node:events";
import { type PopulationSpec, contactsOf, shardRange, userAt } from "@handshake/population";
import type { SampleIdentity } from "./identity";
import { type Sample, samplePosition, sampleUserCount } from "./sample";

/** One entry of users.json. */
export interface FixtureUser {
  i: number;
  accountId: string;
  deviceId: number;
  credential: string;
  phone: string;
  country: string;
  shard: number;
  os: string;
  activity: string;
  messagesPerDay: number;
  business: boolean;
  displayName: string | null;
  consent: string;
  acceptsAfterDays: number | null;
  optsOutAfterDays: number | null;
  registeredAt: string;
  /** Indexes into users.json. */
  contacts: number[];
  /** Population ids outside the sample (sent to `outside[id % outside.length]`). */
  outsideContacts: number[];
}

/** meta.json. */
export interface FixtureMeta {
  version: 1;
  seed: number;
  size: number;
  shardCount: number;
  shards: number[];
  users: number;
  createdAt: string;
  /**
   * One section per target seeded: `messenger: { databaseName }`, and
   * `facebook: { databaseName, profiles, addressBookEntries }` when the run had a
   * Facebook database.
   */
  [target: string]: unknown;
  outside: { accountId: string; deviceId: number }[];
}

export interface WriteFixturesOptions {
  dir: string;
  sample: Sample;
  identity: SampleIdentity;
  /**
   * meta.json sections by target name, or a function giving them, called once the
   * files are about to be put in place (after `beforeCommit`).
   */
  targets: Record<string, Record<string, unknown>> | (() => Record<string, Record<string, unknown>>);
  /** Wall-clock time of the run (meta.createdAt). */
  createdAt: Date;
  displayName: (user: ReturnType<typeof userAt>) => string;
  onProgress?: (users: number) => void;
  /**
   * Awaited before the files are put in place: fixtures are written while the
   * database is seeded, and must not appear for a sample whose seeding failed.
   */
  beforeCommit?: () => Promise<void>;
  /** Stops the writing (the partial file is removed), e.g. once seeding failed. */
  signal?: AbortSignal;
}

export interface FixturesWritten {
  users: number;
  /** Seconds spent producing users.json, not counting the wait in `beforeCommit`. */
  seconds: number;
}

/** Builds the users.json entry of population user i. */
export function fixtureUser(
  spec: PopulationSpec,
  i: number,
  identity: SampleIdentity,
  position: (id: number) => number,
  displayName: (user: ReturnType<typeof userAt>) => string,
): FixtureUser {
  const user = userAt(spec, i);
  const contacts: number[] = [];
  const outsideContacts: number[] = [];
  for (const c of contactsOf(spec, i)) {
    const p = position(c);
    if (p >= 0) contacts.push(p);
    else outsideContacts.push(c);
  }
  const accountId = identity.accountIdOf(i, user.phone);
  return {
    i,
    accountId,
    deviceId: 1,
    credential: `${accountId}.1.${identity.secret(i)}`,
    phone: user.phone,
    country: user.country,
    shard: user.shard,
    os: user.os,
    activity: user.activity,
    messagesPerDay: user.messagesPerDay,
    business: user.business,
    displayName: user.business ? displayName(user) : null,
    consent: user.consent,
    acceptsAfterDays: user.acceptsAfterDays,
    optsOutAfterDays: user.optsOutAfterDays,
    registeredAt: new Date(user.registeredAt).toISOString(),
    contacts,
    outsideContacts,
  };
}

/** Writes meta.json and users.json into `dir` (created if missing). */
export async function writeFixtures(options: WriteFixturesOptions): Promise<FixturesWritten> {
  const started = performance.now();
  const { dir, sample, identity } = options;
  const { spec, shards } = sample;
  await mkdir(dir, { recursive: true });
  const position = samplePosition(spec, shards);

  const usersPath = path.join(dir, "users.json");
  const partial = `${usersPath}.partial`;
  const out = createWriteStream(partial, { encoding: "utf8" });
  const closed = once(out, "close");
  let written = 0;
  let seconds = 0;
  try {
    let chunk = "[\n";
    const flush = async () => {
      if (!out.write(chunk)) await once(out, "drain");
      chunk = "";
      options.signal?.throwIfAborted();
      // yield, so the seeding running beside us keeps its COPY streams fed
      await new Promise((resolve) => setImmediate(resolve));
    };
    for (const s of shards) {
      const { start, end } = shardRange(spec, s);
      for (let i = start; i < end; i++) {
        chunk += (written > 0 ? ",\n" : "") + JSON.stringify(fixtureUser(spec, i, identity, position, options.displayName));
        written++;
        if (chunk.length >= 1 << 20) {
          await flush();
          options.onProgress?.(written);
        }
      }
    }
    chunk += "\n]\n";
    await flush();
    out.end();
    await closed;
    options.onProgress?.(written);
    seconds = (performance.now() - started) / 1000;
    await options.beforeCommit?.();
  } catch (error) {
    out.destroy();
    await rm(partial, { force: true });
    throw error;
  }
  await rename(partial, usersPath);

  const meta: FixtureMeta = {
    version: 1,
    seed: spec.seed,
    size: spec.size,
    shardCount: spec.shardCount,
    shards: [...shards],
    users: sampleUserCount(spec, shards),
    createdAt: options.createdAt.toISOString(),
    ...(typeof options.targets === "function" ? options.targets() : options.targets),
    outside: sample.outside.map((i) => ({ accountId: identity.accountId(i), deviceId: 1 })),
  };
  await writeFile(path.join(dir, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
  return { users: written, seconds };
}
