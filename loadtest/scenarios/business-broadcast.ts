/**
 * business-broadcast: businesses in the sample send transactional and marketing
 * messages to their customers (constant-arrival-rate, BUSINESS_RATE per second).
 * Some customers blocked the business, some opted out of its marketing (chosen in
 * setup, deterministically from the pair): those sends must be refused with the
 * right reason, and nothing unwanted may reach a connected customer.
 */
import { check, fail } from "k6";
import exec from "k6/execution";
import { Counter, Rate } from "k6/metrics";
import type { Options } from "k6/options";
import { config } from "./lib/config.ts";
import { ConnectedGroup, layoutOf, sleepMs } from "./lib/connected-users.ts";
import { timestampedContent, uuid, drawSize } from "./lib/content.ts";
import { users } from "./lib/fixtures.ts";
import { errors } from "./lib/metrics.ts";
import { mutate } from "./lib/trpc-http.ts";

const CUSTOMERS_PER_BUSINESS = 50;
// assumption: 10% of a business's customers block it and 15% opt out of its marketing;
// 60% of its messages are transactional. WhatsApp published no business figures in 2016.
const BLOCKED_PER_100 = 10;
const MARKETING_OUT_PER_100 = 15;
const TRANSACTIONAL_SHARE = 0.6;
const TOPICS = ["receipt", "flight-status", "delivery", "fraud-alert"] as const;

type Choice = "blocked" | "marketing-opted-out" | "none";

const businesses: number[] = [];
const people: number[] = [];
for (let i = 0; i < users.length; i++) (users[i]!.business ? businesses : people).push(i);

function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}

/** The business's customers: its contacts in the sample, topped up deterministically. */
function customersOf(business: number): number[] {
  const own = users[business]!.contacts.filter((c) => !users[c]!.business);
  const out = new Set(own.slice(0, CUSTOMERS_PER_BUSINESS));
  for (let j = 0; out.size < Math.min(CUSTOMERS_PER_BUSINESS, people.length) && j < 4 * CUSTOMERS_PER_BUSINESS; j++) {
    out.add(people[mix(users[business]!.i, j) % people.length]!);
  }
  return [...out];
}

function choiceOf(business: number, customer: number): Choice {
  const h = mix(users[business]!.i, users[customer]!.i) % 100;
  return h < BLOCKED_PER_100 ? "blocked" : h < BLOCKED_PER_100 + MARKETING_OUT_PER_100 ? "marketing-opted-out" : "none";
}

const customers = businesses.map(customersOf);
const online = layoutOf("business-customers", () => [...new Set(customers.flat())].sort((a, b) => a - b));
const businessByAccount = new Map(businesses.map((b) => [users[b]!.accountId, b]));

const refusedRight = new Rate("choices_respected");
const unwanted = new Counter("unwanted_deliveries");

export const options: Options = {
  scenarios: {
    business_customers: {
      executor: "per-vu-iterations",
      exec: "customersOnline",
      vus: online.vus,
      iterations: 1,
      maxDuration: `${config.durationSeconds + 60}s`,
    },
    business_broadcast: {
      executor: "constant-arrival-rate",
      exec: "broadcast",
      rate: Math.max(1, Math.round(config.businessMessagesPerSecond)),
      timeUnit: "1s",
      duration: `${config.durationSeconds}s`,
      startTime: "5s",
      preAllocatedVUs: 20,
      maxVUs: 200,
    },
  },
  thresholds: {
    "choices_respected{scenario:business_broadcast}": ["rate==1"],
    "unwanted_deliveries{scenario:business_customers}": ["count==0"],
    "delivery_latency{scenario:business_customers}": ["p(99)<500"],
    "errors{scenario:business_broadcast}": ["rate<0.01"],
    "checks{scenario:business_broadcast}": ["rate>0.99"],
  },
};

/** Records each customer's choice (idempotent: a choice already made answers CONFLICT). */
export async function setup(): Promise<void> {
  if (businesses.length === 0) fail("the sample has no business accounts: seed more shards");
  const calls: Promise<unknown>[] = [];
  for (let b = 0; b < businesses.length; b++) {
    for (const c of customers[b]!) {
      const choice = choiceOf(businesses[b]!, c);
      if (choice === "none") continue;
      const input = { businessId: users[businesses[b]!]!.accountId, ...(choice === "blocked" ? {} : { receive: false }) };
      calls.push(
        mutate(choice === "blocked" ? "business.block" : "business.marketing", input, {
          credential: users[c]!.credential,
          expect: [409],
        }).then((r) => {
          if (!r.ok && r.error.code !== "CONFLICT") fail(`recording a business choice failed: ${r.error.message}`);
        }),
      );
      if (calls.length >= 50) await Promise.all(calls.splice(0));
    }
  }
  await Promise.all(calls);
}

export async function broadcast(): Promise<void> {
  const b = Math.floor(Math.random() * businesses.length);
  const business = users[businesses[b]!]!;
  const list = customers[b]!;
  const customer = list[Math.floor(Math.random() * list.length)]!;
  const marketing = Math.random() >= TRANSACTIONAL_SHARE;
  const choice = choiceOf(businesses[b]!, customer);
  const refusal = choice === "blocked" ? "business-blocked" : choice === "marketing-opted-out" && marketing ? "marketing-opted-out" : null;
  const to = users[customer]!;
  const result = await mutate(
    "message.send",
    {
      messageId: uuid(),
      recipient: { accountId: to.accountId, deviceId: to.deviceId },
      type: 1,
      content: timestampedContent(drawSize(), Date.now()),
      category: marketing ? { kind: "marketing" } : { kind: "transactional", topic: TOPICS[Math.floor(Math.random() * TOPICS.length)] },
    },
    { credential: business.credential, expect: refusal ? [403] : [], tags: { category: marketing ? "marketing" : "transactional" } },
  );
  const right = refusal === null ? result.ok : !result.ok && result.error.code === "FORBIDDEN" && result.error.reason === refusal;
  refusedRight.add(right, { expected: refusal ?? "delivered" });
  if (refusal === null) errors.add(!result.ok, { what: "message.send" });
  check(result, { "business send refused exactly when the customer chose so": () => right });
}

/** Connected customers: receive, ack, and flag anything their choices should have stopped. */
export async function customersOnline(): Promise<void> {
  const group = new ConnectedGroup({
    group: online.groupOf(exec.scenario.iterationInTest),
    layout: online,
    inspect: (customer, envelope) => {
      const business = businessByAccount.get(envelope.senderAccountId);
      if (business === undefined) return;
      const choice = choiceOf(business, customer);
      if (choice === "blocked" || (choice === "marketing-opted-out" && envelope.category === "marketing")) unwanted.add(1);
    },
  });
  await group.connect(2000);
  // The broadcast starts 5 s in and runs DURATION; stay 2 s longer for the last deliveries.
  await sleepMs((config.durationSeconds + 7) * 1000);
  group.closeAll();
}
