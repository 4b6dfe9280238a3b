/**
 * rollout: the 30 days after the 2016 terms (announced 2016-08-25) compressed through
 * the messenger's simulation clock (DAY_SECONDS real seconds per simulated day).
 * Each sample user acts on the day its fixture says: accepts with the share box
 * ticked, unticks it, opts out later in Settings, or never accepts. After the
 * acceptance deadline, holdouts must be locked out (FORBIDDEN, reason
 * terms-not-accepted) and everyone who accepted must still be served.
 *
 * Needs a stack whose simulation clock has not passed 2016-08-25 (the runner starts
 * a fresh one).
 *
 * Share pipeline lag (when FACEBOOK_TARGET is set): a LAG_SAMPLE share of consent
 * changes is followed to the Facebook side. Before the change we read what Facebook
 * holds about the account (`accounts.view`, admin); after it, the messenger's own
 * decision (`settings.decisions`) says which purposes the phone number may now serve;
 * we poll `accounts.view` every LAG_POLL_MS until Facebook holds exactly those. The
 * time from the change's answer to that moment is `share_pipeline_lag` (resolution:
 * the poll interval plus one `accounts.view`). A change that alters nothing Facebook
 * holds (e.g. the German ban: nothing is ever shared) cannot be observed and is counted
 * in `share_pipeline_unobservable`. The clock VU samples the messenger's outbox
 * (`share.status`) once per simulated day: `share_outbox_pending` (Gauge).
 *
 * Pacing: the clock VU moves the simulation a day every DAY_SECONDS from the scenario
 * start, so every VU knows the simulated day from its own clock (exec.scenario.startTime)
 * without asking the server; each user acts at its own (fractional) day, and a VU keeps
 * at most HTTP_IN_FLIGHT_PER_VU calls in flight (= batchPerHost: connections reused). Only
 * the verification after the deadline asks `clock.now`, once per VU, to be sure the
 * server's clock has passed it. A call that got no answer is an error, never an outcome.
 */
import { check, fail } from "k6";
import { SharedArray } from "k6/data";
import exec from "k6/execution";
import { Counter, Gauge, Rate, Trend } from "k6/metrics";
import type { Options } from "k6/options";
import { HTTP_IN_FLIGHT_PER_VU } from "../src/model/timeline.ts";
import { config } from "./lib/config.ts";
import { messageIdAt, timestampedContent } from "./lib/content.ts";
import { outsideRecipient, users, type FixtureUser } from "./lib/fixtures.ts";
import { errors, transportErrors } from "./lib/metrics.ts";
import { baseOptions, invariant } from "./lib/options.ts";
import { limiter, sleepMs, sleepUntil } from "./lib/pacing.ts";
import { mutate, query, type TrpcResult } from "./lib/trpc-http.ts";

export { handleSummary } from "./lib/summary.ts";

const DAY_MS = 86_400_000;
const ANNOUNCED = Date.parse("2016-08-25T00:00:00Z");
const POLICY_VERSION = "2016-08-25";
const WINDOW_DAYS = 30;
/** Simulated days to run: past the 30-day deadline, with a day to spare. */
const SIM_DAYS = WINDOW_DAYS + 2;
const USERS_PER_VU = config.usersPerVu;
const realDayMs = config.daySeconds * 1000;
/** How long a VU waits for the server's clock to pass the deadline before it gives up verifying. */
const DEADLINE_WAIT_MS = 30_000;

const consentCalls = new Counter("consent_calls");
const consentLatency = new Trend("consent_latency", true);
/** Holdouts after the deadline: true when refused with terms-not-accepted. */
const lockedOut = new Rate("holdouts_locked_out");
const holdoutsChecked = new Counter("holdouts_checked");
/** Accepted users after the deadline: true when their send went through. */
const served = new Rate("accepted_served");
const acceptedChecked = new Counter("accepted_checked");
/** Users whose outcome could not be verified (no answer, or the server's clock never passed the deadline). */
const unverified = new Counter("rollout_unverified");

/** The phone number's purposes (packages/consent fields.ts FIELD_CATALOGUE.phoneNumber). */
const PHONE_PURPOSES = ["ads", "metrics", "product", "security", "spam"];
const LAG_POLL_MS = 100;
/** Followed changes one VU polls at once; more are not followed (bounded extra load). */
const LAG_MAX_IN_FLIGHT = 20;
const followLag = config.facebookTarget !== "" && config.lagSample > 0;
/** Change answered -> Facebook holds the snapshot it caused (ms). */
const shareLag = new Trend("share_pipeline_lag", true);
/** One sample per followed change: true when Facebook held the new snapshot within LAG_TIMEOUT. */
const shareArrived = new Rate("share_pipeline_arrived");
const shareFollowed = new Counter("share_pipeline_followed");
const shareUnobservable = new Counter("share_pipeline_unobservable");
const outboxPending = new Gauge("share_outbox_pending");
const outboxLag = new Gauge("share_outbox_lag_ms");

/** What the whole sample holds (walked once per process): thresholds only ask for outcomes that can occur. */
const sampleCounts = new SharedArray<{ holdouts: number; accepting: number }>("rollout-counts", () => {
  let holdouts = 0;
  for (let i = 0; i < users.length; i++) if (users[i]!.consent === "never-accepts") holdouts += 1;
  return [{ holdouts, accepting: users.length - holdouts }];
})[0]!;

export const options: Options = {
  ...baseOptions,
  scenarios: {
    // One VU: with execution segments exactly one generator runs it (k6 splits VUs, not this one).
    rollout_clock: {
      executor: "per-vu-iterations",
      exec: "advanceClock",
      vus: 1,
      iterations: 1,
      maxDuration: `${Math.ceil(SIM_DAYS * config.daySeconds) + 60}s`,
    },
    rollout: {
      executor: "per-vu-iterations",
      exec: "consentingUsers",
      vus: Math.max(1, Math.ceil(users.length / USERS_PER_VU)),
      iterations: 1,
      maxDuration: `${Math.ceil(SIM_DAYS * config.daySeconds) + 120}s`,
    },
  },
  thresholds: {
    "holdouts_locked_out{scenario:rollout}": [invariant("rate==1")],
    ...(sampleCounts.holdouts > 0 ? { "holdouts_checked{scenario:rollout}": ["count>0"] } : {}),
    "accepted_served{scenario:rollout}": ["rate>0.99"],
    "accepted_checked{scenario:rollout}": ["count>0"],
    "rollout_unverified{scenario:rollout}": ["count==0"],
    "consent_latency{scenario:rollout}": ["p(99)<500"],
    "consent_calls{scenario:rollout}": ["count>0"],
    "errors{scenario:rollout}": ["rate<0.01"],
    "http_req_failed{scenario:rollout}": ["rate<0.01"],
    "checks{scenario:rollout}": ["rate>0.99"],
    ...(followLag
      ? {
          // The shipper is woken on each commit and polls every 500 ms when idle; an
          // ingest batch is one transaction. Seconds of lag mean a backlog.
          "share_pipeline_lag{scenario:rollout}": ["p(50)<1000", "p(95)<2000", "p(99)<5000"],
          "share_pipeline_arrived{scenario:rollout}": ["rate>0.99"],
          "share_pipeline_followed{scenario:rollout}": ["count>0"],
        }
      : {}),
  },
};

/** An answer or no answer: a call with no HTTP answer is counted as a transport error (and an error). */
function answered(result: TrpcResult<unknown>, what: string): boolean {
  if (result.ok || result.error.code !== "NETWORK") return true;
  errors.add(true, { what });
  transportErrors.add(1, { what });
  return false;
}

interface SetupData {
  announcedAt: number;
}

/** The server's simulated time (ms), or null when it did not answer. */
async function simNow(): Promise<number | null> {
  const now = await query<{ now: string }>("clock.now", undefined);
  errors.add(!now.ok, { what: "clock.now" });
  return now.ok ? Date.parse(now.data.now) : null;
}

/**
 * Puts the simulation clock at the announcement (it only moves forward). Safe when
 * every generator runs it (k6-operator OSS runs setup() on each runner): moving the
 * clock to where it already is changes nothing, and a clock up to a day past the
 * announcement (another runner's clock VU already started) is accepted.
 */
export async function setup(): Promise<SetupData> {
  if (!config.adminToken) fail("rollout moves the simulation clock: set ADMIN_TOKEN");
  if (followLag) {
    const status = await shareStatus();
    if (status?.shipper.state === "disabled") fail("FACEBOOK_TARGET is set but the messenger ships no share events (no FACEBOOK_URL)");
  }
  const now = await simNow();
  if (now === null) fail("clock.now did not answer");
  if (now > ANNOUNCED + DAY_MS) {
    fail(`the simulation clock is at ${new Date(now).toISOString()}, past the announcement: rollout needs a fresh stack`);
  }
  if (now < ANNOUNCED) {
    const moved = await mutate("admin.setClock", { at: new Date(ANNOUNCED).toISOString() }, { adminToken: config.adminToken });
    if (!moved.ok) fail(`admin.setClock failed: ${moved.error.message}`);
  }
  return { announcedAt: ANNOUNCED };
}

interface ShareStatus {
  regime: unknown;
  shipper: { state: string; pending: number; lagMs: number };
}

async function shareStatus(): Promise<ShareStatus | null> {
  const status = await query<ShareStatus>("share.status", undefined, { adminToken: config.adminToken });
  errors.add(!status.ok, { what: "share.status" });
  return status.ok ? status.data : null;
}

/** One VU moves the clock a day every DAY_SECONDS from the scenario start, and samples the share outbox each day. */
export async function advanceClock(): Promise<void> {
  const start = exec.scenario.startTime;
  for (let day = 1; day <= SIM_DAYS; day++) {
    await sleepUntil(start + day * realDayMs);
    if (config.facebookTarget) {
      const status = await shareStatus();
      if (status) {
        outboxPending.add(status.shipper.pending);
        outboxLag.add(status.shipper.lagMs);
      }
    }
    const moved = await mutate("admin.advanceClock", { days: 1 }, { adminToken: config.adminToken });
    errors.add(!moved.ok, { what: "admin.advanceClock" });
    check(moved, { "clock advanced": (r) => r.ok });
  }
}

interface Plan {
  user: FixtureUser;
  acceptDay: number | null;
  shareWithFacebook: boolean;
  optOutDay: number | null;
  accepted: boolean;
  optedOut: boolean;
}

function planFor(user: FixtureUser): Plan {
  const acceptDay =
    user.consent === "never-accepts" ? null : user.consent === "registered-after" ? 0 : (user.acceptsAfterDays ?? 0);
  const optOutDay =
    user.consent === "opts-out-later" && acceptDay !== null ? acceptDay + (user.optsOutAfterDays ?? 1) : null;
  return { user, acceptDay, shareWithFacebook: user.consent !== "unticks", optOutDay, accepted: false, optedOut: false };
}

// --- share pipeline lag ---------------------------------------------------------------

interface AccountView {
  fields: { field: string; purposes: string[] }[];
}

/** Followed changes still being polled by this VU (awaited before the VU ends). */
const following: Promise<void>[] = [];
let inFlight = 0;

/** The phone number's purposes Facebook holds for the account ("" when none), or null on error. */
async function heldOnFacebook(accountId: string): Promise<string | null> {
  const view = await query<AccountView>(
    "accounts.view",
    { whatsappAccountId: accountId },
    { baseUrl: config.facebookTrpcUrl, adminToken: config.facebookAdminToken, tags: { action: "share-lag-poll" } },
  );
  errors.add(!view.ok, { what: "accounts.view" });
  if (!view.ok) return null;
  const phone = view.data.fields.find((f) => f.field === "phoneNumber");
  return phone ? [...phone.purposes].sort().join(",") : "";
}

/** Decides whether to follow the next change; if so, reads what Facebook holds before it. */
async function beforeChange(plan: Plan): Promise<{ before: string } | null> {
  if (!followLag || inFlight >= LAG_MAX_IN_FLIGHT || Math.random() >= config.lagSample) return null;
  const before = await heldOnFacebook(plan.user.accountId);
  return before === null ? null : { before };
}

async function follow(plan: Plan, before: string, answeredAt: number, action: string): Promise<void> {
  const decisions = await query<{ purposes: Record<string, boolean> }>("settings.decisions", undefined, {
    credential: plan.user.credential,
    tags: { action: "share-lag-expect" },
  });
  errors.add(!decisions.ok, { what: "settings.decisions" });
  if (!decisions.ok) return;
  const expected = PHONE_PURPOSES.filter((p) => decisions.data.purposes[p]).join(",");
  if (expected === before) {
    shareUnobservable.add(1, { action });
    return;
  }
  const deadline = answeredAt + config.lagTimeoutSeconds * 1000;
  for (;;) {
    const held = await heldOnFacebook(plan.user.accountId);
    if (held === expected) {
      shareLag.add(Date.now() - answeredAt, { action });
      shareArrived.add(true, { action });
      shareFollowed.add(1, { action });
      return;
    }
    if (Date.now() > deadline) {
      shareArrived.add(false, { action });
      shareFollowed.add(1, { action });
      console.warn(`rollout: Facebook still holds "${held}" for ${plan.user.accountId} ${config.lagTimeoutSeconds} s after ${action}, expected "${expected}"`);
      return;
    }
    await sleepMs(LAG_POLL_MS);
  }
}

/** Starts following a change in the background (the user's plan goes on). */
function startFollowing(plan: Plan, before: string, answeredAt: number, action: string): void {
  inFlight += 1;
  following.push(follow(plan, before, answeredAt, action).finally(() => (inFlight -= 1)));
}

/** A user's position inside a day for actions planned on a whole day (spreads day-0 registrations over the day). */
const withinDay = (user: FixtureUser) => ((Math.imul(user.i ^ 0x5bd1e995, 0x27d4eb2d) >>> 0) / 2 ** 32) * 0.9;

/** The user's actions, as (simulated day, what) in time order. */
function actionsOf(plan: Plan): Array<{ day: number; run: () => Promise<void> }> {
  const out: Array<{ day: number; run: () => Promise<void> }> = [];
  if (plan.acceptDay !== null) {
    const day = plan.acceptDay === Math.floor(plan.acceptDay) ? plan.acceptDay + withinDay(plan.user) : plan.acceptDay;
    out.push({ day, run: () => accept(plan) });
    if (plan.optOutDay !== null) out.push({ day: Math.max(day, plan.optOutDay), run: () => optOut(plan) });
  }
  return out;
}

async function accept(plan: Plan): Promise<void> {
  const followed = await beforeChange(plan);
  const result = await mutate("terms.accept", { version: POLICY_VERSION, shareWithFacebook: plan.shareWithFacebook }, {
    credential: plan.user.credential,
    tags: { action: plan.shareWithFacebook ? "accept" : "accept-unticked" },
  });
  consentCalls.add(1, { action: "accept" });
  consentLatency.add(result.durationMs, { action: "accept" });
  if (!answered(result, "terms.accept")) return;
  errors.add(!result.ok, { what: "terms.accept" });
  check(result, { "terms accepted": (r) => r.ok });
  plan.accepted = result.ok;
  if (result.ok && followed) startFollowing(plan, followed.before, Date.now(), "accept");
}

async function optOut(plan: Plan): Promise<void> {
  if (!plan.accepted || plan.optOutDay === null) return;
  const insideWindow = plan.optOutDay - (plan.acceptDay ?? 0) < WINDOW_DAYS - 1;
  const followed = insideWindow ? await beforeChange(plan) : null;
  const result = await mutate("settings.setShareAccountInfo", { shareWithFacebook: false }, {
    credential: plan.user.credential,
    expect: insideWindow ? [] : [409],
    tags: { action: "opt-out" },
  });
  consentCalls.add(1, { action: "opt-out" });
  consentLatency.add(result.durationMs, { action: "opt-out" });
  if (!answered(result, "settings.setShareAccountInfo")) return;
  plan.optedOut = result.ok;
  if (insideWindow) {
    errors.add(!result.ok, { what: "settings.setShareAccountInfo" });
    check(result, { "opt-out inside the window accepted": (r) => r.ok });
    if (result.ok && followed) startFollowing(plan, followed.before, Date.now(), "opt-out");
  }
}

/** After the deadline: a send from each user tells whether the rules locked them out. */
async function verifyAfterDeadline(plan: Plan): Promise<void> {
  const to = outsideRecipient(plan.user.i);
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = await mutate(
      "message.send",
      {
        messageId: messageIdAt(Date.now()),
        recipient: to,
        type: 1,
        content: timestampedContent(64, Date.now()),
        // Business accounts must declare what they send.
        ...(plan.user.business ? { category: { kind: "transactional", topic: "receipt" } } : {}),
      },
      { credential: plan.user.credential, expect: plan.accepted ? [] : [403], tags: { action: "send-after-deadline" } },
    );
    if (!answered(result, "message.send")) continue;
    if (plan.accepted) {
      served.add(result.ok);
      acceptedChecked.add(1);
      check(result, { "accepted user served after the deadline": (r) => r.ok });
    } else {
      const refused = !result.ok && result.error.code === "FORBIDDEN" && result.error.reason === "terms-not-accepted";
      lockedOut.add(refused);
      holdoutsChecked.add(1);
      check(result, { "holdout locked out (terms-not-accepted)": () => refused });
    }
    return;
  }
  unverified.add(1, { why: "no answer" });
}

/** Waits until the server's simulated clock has passed the deadline (a day spare), polling clock.now; false on giving up. */
async function serverPastDeadline(announcedAt: number): Promise<boolean> {
  const giveUpAt = Date.now() + DEADLINE_WAIT_MS;
  while (Date.now() < giveUpAt) {
    const now = await simNow();
    if (now !== null && (now - announcedAt) / DAY_MS >= WINDOW_DAYS + 1) return true;
    await sleepMs(Math.min(500, realDayMs / 4));
  }
  return false;
}

export async function consentingUsers(data: SetupData): Promise<void> {
  const slot = exec.scenario.iterationInTest;
  const start = exec.scenario.startTime;
  const plans: Plan[] = [];
  for (let i = slot * USERS_PER_VU; i < Math.min(users.length, (slot + 1) * USERS_PER_VU); i++) plans.push(planFor(users[i]!));
  const throttle = limiter(HTTP_IN_FLIGHT_PER_VU);
  const actions = plans.flatMap((plan) => actionsOf(plan).map((a) => ({ ...a, plan })));
  actions.sort((a, b) => a.day - b.day);
  const running: Promise<void>[] = [];
  const byUser = new Map<Plan, Promise<void>>();
  for (const action of actions) {
    if (action.day >= WINDOW_DAYS + 1) break;
    await sleepUntil(start + action.day * realDayMs);
    // A user's actions stay in order (an opt-out waits for the user's acceptance).
    const previous = byUser.get(action.plan) ?? Promise.resolve();
    const next = previous.then(() => throttle(action.run));
    byUser.set(action.plan, next);
    running.push(next);
  }
  await Promise.all(running);
  await sleepUntil(start + (WINDOW_DAYS + 1) * realDayMs);
  if (!(await serverPastDeadline(data.announcedAt))) {
    unverified.add(plans.length, { why: "clock" });
    console.error(`rollout: the server's clock did not pass day ${WINDOW_DAYS + 1} within ${DEADLINE_WAIT_MS / 1000} s; ${plans.length} users not verified`);
  } else {
    await Promise.all(plans.map((plan) => throttle(() => verifyAfterDeadline(plan))));
  }
  await Promise.all(following);
}
