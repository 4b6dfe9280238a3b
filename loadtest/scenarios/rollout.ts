/**
 * rollout: the 30 days after the 2016 terms (announced 2016-08-25) compressed through
 * the messenger's simulation clock (DAY_SECONDS real seconds per simulated day).
 * Each sample user acts on the day its fixture says: accepts with the share box
 * ticked, unticks it, opts out later in Settings, or never accepts. After the
 * acceptance deadline, holdouts must be locked out (FORBIDDEN, reason
 * terms-not-accepted) and everyone who accepted must still be served.
 *
 * Needs a stack whose simulation clock has not passed 2016-08-25 (the runner starts
 * a fresh one). The Facebook side does not exist yet:
 * TODO(share-pipeline-lag): once apps/facebook ingests share events, poll its ingest
 * high-water mark against each consent change's time and record `share_pipeline_lag`
 * (Trend) with a threshold here.
 */
import { check, fail } from "k6";
import exec from "k6/execution";
import { Counter, Rate, Trend } from "k6/metrics";
import type { Options } from "k6/options";
import { config } from "./lib/config.ts";
import { sleepMs } from "./lib/connected-users.ts";
import { outsideRecipient, users, type FixtureUser } from "./lib/fixtures.ts";
import { timestampedContent, uuid } from "./lib/content.ts";
import { errors } from "./lib/metrics.ts";
import { mutate, query } from "./lib/trpc-http.ts";

const DAY_MS = 86_400_000;
const ANNOUNCED = Date.parse("2016-08-25T00:00:00Z");
const POLICY_VERSION = "2016-08-25";
const WINDOW_DAYS = 30;
/** Simulated days to run: past the 30-day deadline, with a day to spare. */
const SIM_DAYS = WINDOW_DAYS + 2;
const USERS_PER_VU = config.usersPerVu;

const consentCalls = new Counter("consent_calls");
const consentLatency = new Trend("consent_latency", true);
/** Holdouts after the deadline: true when refused with terms-not-accepted. */
const lockedOut = new Rate("holdouts_locked_out");
/** Accepted users after the deadline: true when their send went through. */
const served = new Rate("accepted_served");

export const options: Options = {
  scenarios: {
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
    "holdouts_locked_out{scenario:rollout}": ["rate==1"],
    "accepted_served{scenario:rollout}": ["rate>0.99"],
    "consent_latency{scenario:rollout}": ["p(99)<500"],
    "errors{scenario:rollout}": ["rate<0.01"],
    "checks{scenario:rollout}": ["rate>0.99"],
  },
};

interface SetupData {
  announcedAt: number;
}

async function simNow(): Promise<number> {
  const now = await query<{ now: string }>("clock.now", undefined);
  if (!now.ok) fail(`clock.now failed: ${now.error.message}`);
  return Date.parse(now.data.now);
}

/** Puts the simulation clock at the announcement (it only moves forward). */
export async function setup(): Promise<SetupData> {
  if (!config.adminToken) fail("rollout moves the simulation clock: set ADMIN_TOKEN");
  const now = await simNow();
  if (now > ANNOUNCED + DAY_MS) {
    fail(`the simulation clock is at ${new Date(now).toISOString()}, past the announcement: rollout needs a fresh stack`);
  }
  if (now < ANNOUNCED) {
    const moved = await mutate("admin.setClock", { at: new Date(ANNOUNCED).toISOString() }, { adminToken: config.adminToken });
    if (!moved.ok) fail(`admin.setClock failed: ${moved.error.message}`);
  }
  return { announcedAt: ANNOUNCED };
}

/** One VU moves the clock a day at a time. */
export async function advanceClock(): Promise<void> {
  for (let day = 1; day <= SIM_DAYS; day++) {
    await sleepMs(config.daySeconds * 1000);
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

async function act(plan: Plan, day: number): Promise<void> {
  const auth = { credential: plan.user.credential, tags: {} as Record<string, string> };
  if (!plan.accepted && plan.acceptDay !== null && day >= plan.acceptDay) {
    plan.accepted = true;
    const result = await mutate("terms.accept", { version: POLICY_VERSION, shareWithFacebook: plan.shareWithFacebook }, {
      ...auth,
      tags: { action: plan.shareWithFacebook ? "accept" : "accept-unticked" },
    });
    consentCalls.add(1, { action: "accept" });
    consentLatency.add(result.durationMs, { action: "accept" });
    errors.add(!result.ok, { what: "terms.accept" });
    check(result, { "terms accepted": (r) => r.ok });
    if (!result.ok) plan.accepted = false;
    return;
  }
  if (plan.accepted && !plan.optedOut && plan.optOutDay !== null && day >= plan.optOutDay) {
    plan.optedOut = true;
    const insideWindow = plan.optOutDay - (plan.acceptDay ?? 0) < WINDOW_DAYS - 1;
    const result = await mutate("settings.setShareAccountInfo", { shareWithFacebook: false }, {
      ...auth,
      expect: insideWindow ? [] : [409],
      tags: { action: "opt-out" },
    });
    consentCalls.add(1, { action: "opt-out" });
    consentLatency.add(result.durationMs, { action: "opt-out" });
    if (insideWindow) {
      errors.add(!result.ok, { what: "settings.setShareAccountInfo" });
      check(result, { "opt-out inside the window accepted": (r) => r.ok });
    }
  }
}

/** After the deadline: a send from each user tells whether the rules locked them out. */
async function verifyAfterDeadline(plan: Plan): Promise<void> {
  const to = outsideRecipient(plan.user.i);
  const result = await mutate(
    "message.send",
    {
      messageId: uuid(),
      recipient: to,
      type: 1,
      content: timestampedContent(64, Date.now()),
      // Business accounts must declare what they send.
      ...(plan.user.business ? { category: { kind: "transactional", topic: "receipt" } } : {}),
    },
    { credential: plan.user.credential, expect: plan.accepted ? [] : [403], tags: { action: "send-after-deadline" } },
  );
  if (plan.accepted) {
    served.add(result.ok);
    check(result, { "accepted user served after the deadline": (r) => r.ok });
  } else {
    const refused = !result.ok && result.error.code === "FORBIDDEN" && result.error.reason === "terms-not-accepted";
    lockedOut.add(refused);
    check(result, { "holdout locked out (terms-not-accepted)": () => refused });
  }
}

export async function consentingUsers(data: SetupData): Promise<void> {
  const slot = exec.scenario.iterationInTest;
  const plans: Plan[] = [];
  for (let i = slot * USERS_PER_VU; i < Math.min(users.length, (slot + 1) * USERS_PER_VU); i++) plans.push(planFor(users[i]!));
  const tickMs = Math.max(50, (config.daySeconds * 1000) / 4);
  for (;;) {
    const day = ((await simNow()) - data.announcedAt) / DAY_MS;
    if (day >= WINDOW_DAYS + 1) break;
    await Promise.all(plans.map((plan) => act(plan, day)));
    await sleepMs(tickMs);
  }
  await Promise.all(plans.map(verifyAfterDeadline));
}
