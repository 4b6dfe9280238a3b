/**
 * `pnpm bench gains [--shard 0] [--size N --shard-count S] [--seed n]`: what Facebook
 * gains from WhatsApp's data on one seeded shard, and what the regulators take away.
 *
 * Into a throwaway embedded PostgreSQL: the shard's Facebook profiles and address books
 * (the seeder's Facebook target), then a real Facebook service. Each sample user's
 * consent follows the population (accepts, unticks, opts out later, never accepts,
 * registered after) through @handshake/consent; the share event carries what
 * `shareableFields` allows. Phase 1: `optout-2016` on 2016-10-01. An advertiser uploads
 * a customer list (10% of the shard's WhatsApp users, by a seeded draw). Phase 2:
 * `historical-2016` on 2016-12-01 (Germany banned, the UK and the EU paused ads and
 * products): a new snapshot per account, and the losses. Each phase prints
 * `dashboard.gains`; name links are checked against the population's ground truth
 * (the profile a WhatsApp user really is).
 */
import { createHash, randomUUID } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  acceptTerms,
  ANNOUNCED_2016,
  type ConsentState,
  type CountryCode,
  newAccount,
  optOutInSettings,
  type RegimeInput,
  shareableFields,
  SHARING_POLICY_VERSION,
} from "@handshake/consent";
import { createFacebookServer } from "@handshake/facebook/server";
import { createSpec, draw, facebookProfileOfUser, keyFor, keyOf, shardRange, unit, userAt, type User } from "@handshake/population";
import { rawClient } from "@handshake/db/client";
import { ensureDatabase, startEmbeddedPostgres } from "@handshake/db/embedded";
import { DEFAULT_ADDRESS_BOOKS, facebookTarget, sampleIdentity, type SeedUser } from "../src/index";

const { values } = parseArgs({
  options: {
    shard: { type: "string", default: "0" },
    size: { type: "string" },
    "shard-count": { type: "string" },
    seed: { type: "string" },
  },
});
const spec = createSpec({
  ...(values.size ? { size: Number(values.size) } : {}),
  ...(values["shard-count"] ? { shardCount: Number(values["shard-count"]) } : {}),
  ...(values.seed ? { seed: Number(values.seed) } : {}),
});
const shard = Number(values.shard);
const DAY = 86_400_000;
const SERVICE = "gains-bench-service-token-0123456789";
const ADMIN = "gains-bench-admin-token-0123456789";

const scratch = await mkdtemp(path.join(tmpdir(), "handshake-gains-bench-"));
await chmod(scratch, 0o755);
const pg = await startEmbeddedPostgres({ dataDir: path.join(scratch, "pg") });
const t0 = performance.now();
const log = (line: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${line}\n`);

/** The consent state of population user u at `at`, as the messenger would hold it. */
function consentAt(u: User, at: Date): ConsentState {
  let state = newAccount({ registeredAt: new Date(u.registeredAt), country: u.country as CountryCode });
  const accept = (when: Date, share: boolean) => {
    const r = acceptTerms(state, { version: SHARING_POLICY_VERSION, shareWithFacebook: share, at: when });
    if (r.ok) state = r.state;
  };
  if (u.consent === "registered-after") {
    if (u.registeredAt <= at.getTime()) accept(new Date(Math.max(u.registeredAt, ANNOUNCED_2016.getTime())), true);
    return state;
  }
  if (u.acceptsAfterDays === null) return state;
  const acceptedAt = new Date(ANNOUNCED_2016.getTime() + u.acceptsAfterDays * DAY);
  if (acceptedAt > at) return state;
  accept(acceptedAt, u.consent !== "unticks");
  if (u.optsOutAfterDays !== null) {
    const outAt = new Date(ANNOUNCED_2016.getTime() + u.optsOutAfterDays * DAY);
    if (outAt <= at) {
      const r = optOutInSettings(state, outAt);
      if (r.ok) state = r.state;
    }
  }
  return state;
}

try {
  const databaseUrl = await ensureDatabase(pg.url, "gains_bench_facebook");
  const { start, end } = shardRange(spec, shard);
  const users: User[] = [];
  for (let i = start; i < end; i++) users.push(userAt(spec, i));

  // 1. The shard's Facebook side, as `pnpm population seed` writes it.
  const target = facebookTarget({ spec, databaseUrl, concurrency: 2, addressBooks: DEFAULT_ADDRESS_BOOKS });
  await target.prepare();
  for (let k = 0; k < users.length; k += 10_000) {
    await target.seedBatch(users.slice(k, k + 10_000).map((user): SeedUser => ({ user, accountId: "", secret: "", outside: false })));
  }
  await target.close();
  log(`seeded shard ${shard} of ${spec.shardCount} (${users.length} WhatsApp users)`);

  let simNow = new Date("2016-10-01T00:00:00Z");
  const server = await createFacebookServer({ databaseUrl, serviceToken: SERVICE, adminToken: ADMIN, clock: { now: () => simNow }, poolSize: 4 });
  const { url } = await server.listen(0);
  const call = async (procedure: string, input: unknown, headers: Record<string, string>, method: "GET" | "POST" = "POST") => {
    const response =
      method === "POST"
        ? await fetch(`${url}/${procedure}`, { method, headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(input) })
        : await fetch(`${url}/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers });
    if (!response.ok) throw new Error(`${procedure}: HTTP ${response.status} ${await response.text()}`);
    return ((await response.json()) as { result: { data: unknown } }).result.data;
  };
  const identity = sampleIdentity(spec);

  const ingestAll = async (regime: RegimeInput, at: Date, sequence: number) => {
    let failed = 0;
    const started = performance.now();
    for (let k = 0; k < users.length; k += 500) {
      const events = users.slice(k, k + 500).map((u) => {
        const allowed = shareableFields(consentAt(u, at), at, regime);
        const fields: Record<string, { value: string; purposes: string[] }> = {};
        if (allowed.phoneNumber) fields.phoneNumber = { value: u.phone, purposes: allowed.phoneNumber };
        if (allowed.country) fields.country = { value: u.country, purposes: allowed.country };
        if (allowed.deviceModel) fields.deviceModel = { value: u.deviceModel, purposes: allowed.deviceModel };
        return { eventId: randomUUID(), sequence, whatsappAccountId: identity.accountId(u.id), kind: "regime", occurredAt: at.toISOString(), fields };
      });
      await call("ingest.batch", { events }, { authorization: `Bearer ${SERVICE}` }).catch((error: unknown) => {
        failed++;
        log(`batch at ${k} failed: ${String(error).slice(0, 400)}`);
      });
    }
    log(`ingested ${users.length} snapshots under ${typeof regime === "string" ? regime : "a spec"} at ${at.toISOString().slice(0, 10)} in ${((performance.now() - started) / 1000).toFixed(1)} s (${failed} batches failed)`);
  };

  const sql = rawClient(databaseUrl, { max: 1 });
  /** Name links checked against who each WhatsApp user really is, and how many could have been found. */
  const truth = async () => {
    const links = await sql<{ account: string; profile_id: string; linked_by: string }[]>`
      select whatsapp_account_id as account, profile_id, linked_by from links`;
    const byAccount = new Map(users.map((u) => [identity.accountId(u.id), u]));
    let byName = 0;
    let correct = 0;
    // wrong links whose WhatsApp user has no Facebook profile at all: a namesake took the name
    let wrongNotOnFacebook = 0;
    for (const l of links) {
      if (l.linked_by !== "name") continue;
      byName++;
      const who = byAccount.get(l.account);
      if (Number(l.profile_id) === who?.id) correct++;
      else if (who && facebookProfileOfUser(spec, who.id) === null) wrongNotOnFacebook++;
    }
    const findable = users.filter((u) => {
      const p = facebookProfileOfUser(spec, u.id);
      return p !== null && p.phoneState !== "current";
    }).length;
    return { nameLinks: byName, correct, precision: byName ? correct / byName : null, wrongNotOnFacebook, staleOrNoNumberProfiles: findable };
  };
  const report = async (title: string, regime: RegimeInput) => {
    const gains = (await call("dashboard.gains", { regime }, { "x-admin-token": ADMIN }, "GET")) as {
      audiences: Record<string, number | null>;
      byRegime: Record<string, unknown>[];
    };
    console.log(`\n## ${title}\n`);
    console.log("audiences:", JSON.stringify(gains.audiences));
    console.log("ground truth:", JSON.stringify(await truth()));
    console.table(
      gains.byRegime.map((r) => {
        const a = r.audience as { ownMatches: number; whatsappMatches: number; lift: number | null };
        const lost = r.lost as { links: number; linksByName: number; audienceMemberships: number };
        return {
          regime: r.regime,
          countries: (r.countries as string[]).length,
          linkedByPhone: r.linkedByPhone,
          "extra linked (name)": r.linkedByName,
          "own matches": a.ownMatches,
          "+WhatsApp matches": a.whatsappMatches,
          lift: a.lift?.toFixed(3),
          "extra suggestions": r.extraSuggestions,
          deviceTargetable: r.deviceTargetable,
          "lost links": lost.links,
          "lost name links": lost.linksByName,
          "lost memberships": lost.audienceMemberships,
        };
      }),
    );
  };

  // Phase 1: the opt-out regime as it happened, before any regulator.
  await ingestAll("optout-2016", simNow, 1);
  const { credential } = (await call("advertisers.create", { name: "Bench retailer" }, { "x-admin-token": ADMIN })) as { credential: string };
  const advertiser = { authorization: `Bearer ${credential}` };
  const { audienceId } = (await call("audiences.create", { name: "customers" }, advertiser)) as { audienceId: string };
  const pick = keyFor(spec.seed, "bench/gains-customer-list");
  const list = users.filter((u) => unit(draw(keyOf(pick, u.id), 0)) < 0.1).map((u) => createHash("sha256").update(u.phone.slice(1)).digest("hex"));
  for (let k = 0; k < list.length; k += 10_000) await call("audiences.upload", { audienceId, hashes: list.slice(k, k + 10_000) }, advertiser);
  log(`uploaded a customer list of ${list.length} rows`);
  await report("optout-2016, 2016-10-01", "optout-2016");

  // Phase 2: historical-2016 after the regulators (DE ban 2016-09-27, UK 2016-11-07, EU 2016-11-16).
  simNow = new Date("2016-12-01T00:00:00Z");
  await ingestAll("historical-2016", simNow, 2);
  await report("historical-2016, 2016-12-01", "historical-2016");
  await sql.end();
  await server.close();
} finally {
  await pg.stop();
  await rm(scratch, { recursive: true, force: true });
}
