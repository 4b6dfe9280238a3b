/**
 * The seeded sample, as `pnpm population seed` wrote it (format: ../../docs/fixtures.md).
 * Loaded once per k6 process into SharedArrays (one copy shared by all VUs).
 */
import { SharedArray } from "k6/data";
import { config } from "./config.ts";

export type ConsentBehaviour = "accepts" | "unticks" | "opts-out-later" | "never-accepts" | "registered-after";

export interface FixtureUser {
  i: number;
  accountId: string;
  deviceId: number;
  credential: string;
  /** E.164, e.g. "+2347111436713". */
  phone: string;
  country: string;
  shard: number;
  messagesPerDay: number;
  business: boolean;
  displayName: string | null;
  consent: ConsentBehaviour;
  acceptsAfterDays: number | null;
  optsOutAfterDays: number | null;
  /** Indexes into the users array. */
  contacts: number[];
  /** Population ids of contacts outside the sample. */
  outsideContacts: number[];
}

export interface FixtureMeta {
  version: number;
  seed: number;
  size: number;
  shardCount: number;
  shards: number[];
  users: number;
  outside: { accountId: string; deviceId: number }[];
}

export const users = new SharedArray<FixtureUser>("users", () => JSON.parse(open(`${config.fixtures}/users.json`)) as FixtureUser[]);

export const meta: FixtureMeta = new SharedArray<FixtureMeta>("meta", () => [
  JSON.parse(open(`${config.fixtures}/meta.json`)) as FixtureMeta,
])[0]!;

/** The stub account standing for an outside contact (docs/fixtures.md). */
export function outsideRecipient(contactId: number): { accountId: string; deviceId: number } {
  if (meta.outside.length === 0) throw new Error("the fixture has no outside stub accounts");
  return meta.outside[contactId % meta.outside.length]!;
}
