/**
 * business-broadcast: businesses in the sample send transactional and marketing
 * messages to their customers (constant-arrival-rate at BUSINESS_RATE msg/s, not
 * rounded to whole messages a second). Some customers blocked the business, some
 * opted out of its marketing (chosen deterministically from the pair and recorded
 * in setup): those sends must be refused with the right reason, and nothing unwanted
 * may reach a connected customer. Both are invariants: the run aborts on the first
 * breach.
 */
import { check, fail } from "k6";
import { SharedArray } from "k6/data";
import exec from "k6/execution";
import { Counter, Rate } from "k6/metrics";
import type { Options } from "k6/options";
import { arrivalRate, CONNECT_SPREAD_SECONDS, HTTP_IN_FLIGHT_PER_VU, SEND_START_SECONDS, senderVus, SETTLE_SECONDS } from "../src/model/timeline.ts";
import { BUSINESS_TOPICS } from "./lib/business-topics.ts";
import { config } from "./lib/config.ts";
import { drawSize, messageIdAt, timestampedContent } from "./lib/content.ts";
import { users } from "./lib/fixtures.ts";
import { HolderGroup } from "./lib/holders.ts";
import { layoutOf } from "./lib/layout.ts";
import { errors, messagesSent, transportErrors } from "./lib/metrics.ts";
import { baseOptions, holderThresholds, invariant, senderThresholds } from "./lib/options.ts";
import { limiter } from "./lib/pacing.ts";
import { mutate } from "./lib/trpc-http.ts";

export { handleSummary } from "./lib/summary.ts";

const CUSTOMERS_PER_BUSINESS = 50;
// assumption: 10% of a business's customers block it and 15% opt out of its marketing;
// 60% of its messages are transactional. WhatsApp published no business figures in 2016.
const BLOCKED_PER_100 = 10;
const MARKETING_OUT_PER_100 = 15;
const TRANSACTIONAL_SHARE = 0.6;
/** assumption: one recorded choice takes at most 100 ms of a setup() slot, even on a loaded node. */
const SETUP_SECONDS_PER_CALL = 0.1;

type Choice = "blocked" | "marketing-opted-out" | "none";

function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}

function choiceOf(businessI: number, customerI: number): Choice {
  const h = mix(businessI, customerI) % 100;
  return h < BLOCKED_PER_100 ? "blocked" : h < BLOCKED_PER_100 + MARKETING_OUT_PER_100 ? "marketing-opted-out" : "none";
}

interface BusinessMeta {
  businesses: number;
  /** Choices setup() records (blocked or opted out). */
  choices: number;
  accountIds: string[];
}

interface Business {
  /** The business's index in users. */
  b: number;
  customers: number[];
  choices: Choice[];
}

/**
 * The businesses, their customers (their contacts in the sample, topped up
 * deterministically) and each customer's choice: built once per k6 process by walking
 * the users once, instead of in every VU's init. Element 0: meta; 1: the customers who
 * are online (sorted); 2..: one business each.
 */
const layout = new SharedArray<BusinessMeta | number[] | Business>("business-layout", () => {
  const businesses: number[] = [];
  const people: number[] = [];
  for (let i = 0; i < users.length; i++) (users[i]!.business ? businesses : people).push(i);
  const online = new Set<number>();
  const out: Business[] = [];
  let choices = 0;
  for (const b of businesses) {
    const business = users[b]!;
    const own = business.contacts.filter((c) => !users[c]!.business);
    const set = new Set(own.slice(0, CUSTOMERS_PER_BUSINESS));
    for (let j = 0; set.size < Math.min(CUSTOMERS_PER_BUSINESS, people.length) && j < 4 * CUSTOMERS_PER_BUSINESS; j++) {
      set.add(people[mix(business.i, j) % people.length]!);
    }
    const customers = [...set];
    const customerChoices = customers.map((c) => choiceOf(business.i, users[c]!.i));
    choices += customerChoices.filter((c) => c !== "none").length;
    for (const c of customers) online.add(c);
    out.push({ b, customers, choices: customerChoices });
  }
  const meta: BusinessMeta = { businesses: out.length, choices, accountIds: businesses.map((b) => users[b]!.accountId) };
  return [meta, [...online].sort((a, b) => a - b), ...out];
});
const meta = layout[0] as BusinessMeta;
const businessAt = (slot: number) => layout[slot + 2] as Business;
const online = layoutOf("business-customers", () => layout[1] as number[]);

const refusedRight = new Rate("choices_respected");
const businessSends = new Counter("business_sends");
const unwanted = new Counter("unwanted_deliveries");
const holdSeconds = SEND_START_SECONDS + config.durationSeconds + SETTLE_SECONDS;

export const options: Options = {
  ...baseOptions,
  // setup() records every choice; give it the time that work takes, not k6's default 60 s.
  setupTimeout: `${60 + Math.ceil((meta.choices / HTTP_IN_FLIGHT_PER_VU) * SETUP_SECONDS_PER_CALL)}s`,
  scenarios: {
    business_customers: {
      executor: "per-vu-iterations",
      exec: "customersOnline",
      vus: online.vus,
      iterations: 1,
      maxDuration: `${holdSeconds + 60}s`,
    },
    business_broadcast: {
      executor: "constant-arrival-rate",
      exec: "broadcast",
      ...arrivalRate(config.businessMessagesPerSecond),
      duration: `${config.durationSeconds}s`,
      startTime: `${SEND_START_SECONDS}s`,
      ...senderVus(config.businessMessagesPerSecond),
    },
  },
  thresholds: {
    "choices_respected{scenario:business_broadcast}": [invariant("rate==1")],
    "business_sends{scenario:business_broadcast}": ["count>0"],
    "unwanted_deliveries{scenario:business_customers}": [invariant("count==0")],
    "delivery_latency{scenario:business_customers}": ["p(99)<500"],
    "messages_received{scenario:business_customers}": ["count>0"],
    "errors{scenario:business_broadcast}": ["rate<0.01"],
    "checks{scenario:business_broadcast}": ["rate>0.99"],
    ...senderThresholds("business_broadcast"),
    // The customers' sockets: a customer who never connected cannot receive anything unwanted.
    ...holderThresholds("business_customers"),
  },
};

/**
 * Records each customer's choice. Idempotent (a choice already made answers CONFLICT),
 * so it is safe when every generator runs it (k6-operator runs setup() on each runner;
 * plain `k6 run --execution-segment` does too).
 */
export async function setup(): Promise<void> {
  if (meta.businesses === 0) fail("the sample has no business accounts: seed more shards");
  const slot = limiter(HTTP_IN_FLIGHT_PER_VU);
  const calls: Promise<void>[] = [];
  for (let s = 0; s < meta.businesses; s++) {
    const business = businessAt(s);
    business.customers.forEach((c, n) => {
      const choice = business.choices[n]!;
      if (choice === "none") return;
      const input = { businessId: meta.accountIds[s]!, ...(choice === "blocked" ? {} : { receive: false }) };
      calls.push(
        slot(() =>
          mutate(choice === "blocked" ? "business.block" : "business.marketing", input, { credential: users[c]!.credential, expect: [409] }),
        ).then((r) => {
          if (!r.ok && r.error.code !== "CONFLICT") fail(`recording a business choice failed: ${r.error.code} ${r.error.message}`);
        }),
      );
    });
  }
  await Promise.all(calls);
}

export async function broadcast(): Promise<void> {
  const s = Math.floor(Math.random() * meta.businesses);
  const business = businessAt(s);
  const n = Math.floor(Math.random() * business.customers.length);
  const to = users[business.customers[n]!]!;
  const marketing = Math.random() >= TRANSACTIONAL_SHARE;
  const choice = business.choices[n]!;
  const refusal = choice === "blocked" ? "business-blocked" : choice === "marketing-opted-out" && marketing ? "marketing-opted-out" : null;
  const sentAt = Date.now();
  const result = await mutate(
    "message.send",
    {
      messageId: messageIdAt(sentAt),
      recipient: { accountId: to.accountId, deviceId: to.deviceId },
      type: 1,
      content: timestampedContent(drawSize(), sentAt),
      category: marketing ? { kind: "marketing" } : { kind: "transactional", topic: BUSINESS_TOPICS[Math.floor(Math.random() * BUSINESS_TOPICS.length)] },
    },
    { credential: users[business.b]!.credential, expect: refusal ? [403] : [], tags: { category: marketing ? "marketing" : "transactional" } },
  );
  if (!result.ok && result.error.code === "NETWORK") {
    // No answer says nothing about the customer's choice: an error, not an outcome.
    errors.add(true, { what: "message.send" });
    transportErrors.add(1, { what: "message.send" });
    return;
  }
  businessSends.add(1);
  if (result.ok) messagesSent.add(1, { to: "customer" });
  const right = refusal === null ? result.ok : !result.ok && result.error.code === "FORBIDDEN" && result.error.reason === refusal;
  refusedRight.add(right, { expected: refusal ?? "delivered" });
  if (refusal === null) errors.add(!result.ok, { what: "message.send" });
  check(result, { "business send refused exactly when the customer chose so": () => right });
}

/** Connected customers: receive, ack, and flag anything their choices should have stopped. */
export async function customersOnline(): Promise<void> {
  const slotOf = new Map(meta.accountIds.map((id, s) => [id, s]));
  const group = new HolderGroup({
    group: online.groupOf(exec.scenario.iterationInTest),
    layout: online,
    inspect: (customer, envelope) => {
      const s = slotOf.get(envelope.senderAccountId);
      if (s === undefined) return;
      const business = businessAt(s);
      const choice = business.choices[business.customers.indexOf(customer)] ?? choiceOf(users[business.b]!.i, users[customer]!.i);
      if (choice === "blocked" || (choice === "marketing-opted-out" && envelope.category === "marketing")) unwanted.add(1);
    },
  });
  await group.connect(CONNECT_SPREAD_SECONDS * 1000);
  await group.holdUntil(exec.scenario.startTime + holdSeconds * 1000);
  group.closeAll();
}
