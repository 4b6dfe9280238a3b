/**
 * custom-audience: advertisers build Custom Audiences on the Facebook side
 * (apps/facebook). Each iteration is one customer list: create an audience, upload
 * LIST_ROWS SHA-256 rows in calls of at most 10,000, then read the size back the way
 * an advertiser's dashboard does (`audiences.get` twice, `audiences.list` once).
 * Lists arrive open-loop at LISTS_PER_MINUTE.
 *
 * A list mixes sample users' phone numbers (LIST_MATCH_SHARE of its rows; their
 * Facebook profiles were seeded with the sample) with numbers nobody has (country
 * code 999 is unassigned). Rows are `sha256(E.164 digits without '+')`, lowercase hex.
 *
 * Every response is checked for what an advertiser must never see: a phone number
 * (any run of 8+ digits outside a UUID), a 64-hex hash, or a profile (id or key).
 *
 * Budget: the Facebook side allows 50 audiences and 200 uploads a day per
 * advertiser. setup() creates enough advertisers to stay under both for the planned
 * run; a refusal anyway (TOO_MANY_REQUESTS) counts in `audience_budget_refusals`,
 * not as an error.
 */
import { check, fail } from "k6";
import k6crypto from "k6/crypto";
import exec from "k6/execution";
import { Counter, Rate, Trend } from "k6/metrics";
import type { Options } from "k6/options";
import { config } from "./lib/config.ts";
import { sleepMs } from "./lib/pacing.ts";
import { users } from "./lib/fixtures.ts";
import { leaksIn } from "./lib/leaks.ts";
import { errors, transportErrors } from "./lib/metrics.ts";
import { baseOptions, invariant, senderThresholds } from "./lib/options.ts";
import { mutate, query, type CallOptions, type TrpcResult } from "./lib/trpc-http.ts";

/** The Facebook side's most rows per `audiences.upload` call. */
const ROWS_PER_CALL = 10_000;
const CALLS_PER_LIST = Math.ceil(config.listRows / ROWS_PER_CALL);
/** Per-advertiser budget (apps/facebook src/audiences/budget.ts), with room to spare. */
const AUDIENCES_PER_ADVERTISER = 40;
const UPLOADS_PER_ADVERTISER = 180;
const LISTS_PER_ADVERTISER = Math.max(1, Math.min(AUDIENCES_PER_ADVERTISER, Math.floor(UPLOADS_PER_ADVERTISER / CALLS_PER_LIST)));
/** Lists the run starts: the arrival rate over the duration, plus one minute's worth of slack. */
const PLANNED_LISTS = Math.ceil((config.listsPerMinute * config.durationSeconds) / 60) + config.listsPerMinute;
const ADVERTISERS = Math.ceil(PLANNED_LISTS / LISTS_PER_ADVERTISER);
/** Seconds between the two size reads (an advertiser refreshing the page). */
const REREAD_SECONDS = 1;

const uploadLatency = new Trend("audience_upload_latency", true);
const sizeLatency = new Trend("audience_size_latency", true);
const uploads = new Counter("audience_uploads");
const rowsUploaded = new Counter("audience_rows");
const listsDone = new Counter("audience_lists");
/** One sample per response from the Facebook side: 1 when it carried a phone, a hash or a profile. */
const leaks = new Counter("audience_leaks");
const budgetRefusals = new Counter("audience_budget_refusals");
/** One sample per finished list: true when a size range was shown (false: "too small"). */
const sizeShown = new Rate("audience_size_shown");

export { handleSummary } from "./lib/summary.ts";

export const options: Options = {
  ...baseOptions,
  scenarios: {
    custom_audience: {
      executor: "constant-arrival-rate",
      exec: "customerList",
      rate: config.listsPerMinute,
      timeUnit: "1m", // LISTS_PER_MINUTE is a whole number of lists a minute (at least one)
      duration: `${config.durationSeconds}s`,
      // A list takes a few seconds (uploads of 10,000 rows take 1-3 s on the Facebook side).
      preAllocatedVUs: Math.max(2, Math.ceil((config.listsPerMinute * (CALLS_PER_LIST * 3 + 4)) / 60)),
      maxVUs: Math.max(20, config.listsPerMinute * 2),
    },
  },
  thresholds: {
    // apps/facebook README: 0.9 s for a first 10,000-row upload, 1.5-3 s once an audience holds ~100k members.
    "audience_upload_latency{scenario:custom_audience}": ["p(50)<1500", "p(95)<3000", "p(99)<5000"],
    // README: audiences.get 30-270 ms (a count and the list digest).
    "audience_size_latency{scenario:custom_audience}": ["p(95)<500", "p(99)<1000"],
    // An invariant: the first leaked phone, hash or profile stops the run.
    "audience_leaks{scenario:custom_audience}": [invariant("count==0")],
    "audience_lists{scenario:custom_audience}": ["count>0"],
    ...senderThresholds("custom_audience"),
    "errors{scenario:custom_audience}": ["rate<0.01"],
    "checks{scenario:custom_audience}": ["rate>0.99"],
  },
};

interface Advertiser {
  advertiserId: string;
  credential: string;
}

interface SetupData {
  advertisers: Advertiser[];
}

type Size = { tooSmall: true } | { tooSmall: false; lower: number; upper: number; label: string };

interface AudienceView {
  audienceId: string;
  name: string;
  uploadedRows: number;
  createdAt: string;
  size: Size;
}

/** Facebook-side calls; a budget refusal (429) is an expected answer, counted apart, not an http_req_failed. */
const facebook = (extra: CallOptions = {}): CallOptions => ({ baseUrl: config.facebookTrpcUrl, expect: [429], ...extra });

/** Creates this generator's own advertisers: safe when every generator runs setup() (each gets its own). */
export async function setup(): Promise<SetupData> {
  if (!config.facebookTarget) fail("custom-audience drives the Facebook side: set FACEBOOK_TARGET (e.g. http://127.0.0.1:4200)");
  if (!config.facebookAdminToken) fail("custom-audience creates advertisers: set FACEBOOK_ADMIN_TOKEN (or ADMIN_TOKEN)");
  if (users.length === 0) fail("the fixture has no users");
  const advertisers: Advertiser[] = [];
  for (let n = 0; n < ADVERTISERS; n++) {
    const created = await mutate<Advertiser>(
      "advertisers.create",
      { name: `loadtest advertiser ${n + 1}` },
      facebook({ adminToken: config.facebookAdminToken }),
    );
    if (!created.ok) fail(`advertisers.create failed: ${created.error.code} ${created.error.message}`);
    advertisers.push(created.data);
  }
  return { advertisers };
}

function inspect(result: TrpcResult<unknown>, what: string): void {
  const found = leaksIn(result);
  leaks.add(found.length > 0 ? 1 : 0, { what });
  if (found.length > 0) console.error(`custom-audience: ${what} answer carried ${found.join("; ")}`);
  check(result, { "answer carries no phone, hash or profile": () => found.length === 0 });
}

/** Budget refusals are their own count; anything else that failed is an error. */
function outcome(result: TrpcResult<unknown>, what: string): "ok" | "budget" | "error" {
  if (result.ok) {
    errors.add(false, { what });
    return "ok";
  }
  if (result.error.code === "TOO_MANY_REQUESTS") {
    budgetRefusals.add(1, { what });
    return "budget";
  }
  errors.add(true, { what });
  if (result.error.code === "NETWORK") transportErrors.add(1, { what });
  console.warn(`custom-audience: ${what} failed: ${result.error.code} ${result.error.message}`);
  return "error";
}

// --- the lists --------------------------------------------------------------------------

/** sha256 of the E.164 digits without '+', lowercase hex: the row format. */
const rowOf = (e164: string) => k6crypto.sha256(e164.replace(/^\+/, ""), "hex");

/** A number nobody has: country code 999 is unassigned. */
const stranger = () => `999${String(Math.floor(Math.random() * 1e10)).padStart(10, "0")}`;

/**
 * Rows `from`..`from + count` of a list: a run of consecutive sample users (a CRM's
 * customers) starting at `start`, mixed with strangers.
 */
function rows(start: number, from: number, count: number): string[] {
  const out: string[] = [];
  for (let r = from; r < from + count; r++) {
    const user = Math.random() < config.listMatchShare ? users[(start + r) % users.length] : undefined;
    out.push(rowOf(user?.phone ?? stranger()));
  }
  return out;
}

export async function customerList(data: SetupData): Promise<void> {
  const n = exec.scenario.iterationInTest;
  const advertiser = data.advertisers[n % data.advertisers.length]!;
  const as = facebook({ credential: advertiser.credential });

  const created = await mutate<{ audienceId: string }>("audiences.create", { name: `list ${n}` }, as);
  inspect(created, "audiences.create");
  if (outcome(created, "audiences.create") !== "ok" || !created.ok) return;
  const { audienceId } = created.data;

  const start = Math.floor(Math.random() * users.length);
  let last: AudienceView | null = null;
  for (let call = 0; call < CALLS_PER_LIST; call++) {
    const count = Math.min(ROWS_PER_CALL, config.listRows - call * ROWS_PER_CALL);
    const hashes = rows(start, call * ROWS_PER_CALL, count);
    const uploaded = await mutate<AudienceView & { receivedRows: number }>("audiences.upload", { audienceId, hashes }, as);
    uploadLatency.add(uploaded.durationMs, { rows: count === ROWS_PER_CALL ? "full" : "partial" });
    inspect(uploaded, "audiences.upload");
    const result = outcome(uploaded, "audiences.upload");
    if (result === "budget") return;
    check(uploaded, { "upload accepted with every row": (r) => r.ok && r.data.receivedRows === count });
    if (!uploaded.ok) return;
    uploads.add(1);
    rowsUploaded.add(count);
    last = uploaded.data;
  }

  // The advertiser reads the size back, and again a moment later: the same list must
  // give the same answer (the noise is keyed by the list, so re-reading buys nothing).
  const first = await query<AudienceView>("audiences.get", { audienceId }, as);
  sizeLatency.add(first.durationMs, { call: "get" });
  inspect(first, "audiences.get");
  outcome(first, "audiences.get");
  await sleepMs(REREAD_SECONDS * 1000);
  const again = await query<AudienceView>("audiences.get", { audienceId }, as);
  sizeLatency.add(again.durationMs, { call: "get" });
  inspect(again, "audiences.get");
  outcome(again, "audiences.get");
  const listed = await query<{ audiences: AudienceView[] }>("audiences.list", undefined, as);
  sizeLatency.add(listed.durationMs, { call: "list" });
  inspect(listed, "audiences.list");
  outcome(listed, "audiences.list");

  check(
    { first, again, listed },
    {
      "size stable on re-read and equal to the upload's": ({ first: a, again: b }) =>
        a.ok && b.ok && JSON.stringify(a.data.size) === JSON.stringify(b.data.size) && JSON.stringify(a.data.size) === JSON.stringify(last?.size),
      "rows counted once each at most": ({ first: a }) => a.ok && a.data.uploadedRows <= config.listRows,
      "the list shows the audience": ({ listed: l }) => l.ok && l.data.audiences.some((x) => x.audienceId === audienceId),
    },
  );
  if (first.ok) sizeShown.add(!first.data.size.tooSmall);
  listsDone.add(1);
}
