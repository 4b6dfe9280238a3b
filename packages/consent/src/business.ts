import { z } from "zod";
import type { Refusal, Result } from "./refusals";
import type { AccountKind, BusinessChoice, ConsentState } from "./state";

/**
 * Topics of transactional business messages: what the recipient asked for by doing
 * business. The 2016 announcement named them: "hearing from your bank about whether a
 * recent transaction was fraudulent, or getting notified by an airline about a delayed
 * flight", and later WhatsApp Business "appointment reminders, delivery and shipping
 * information, order updates" (blog.whatsapp.com, "Looking ahead for WhatsApp",
 * 2016-08-25; WhatsApp Business announcement, 2017-09-05).
 */
export const TRANSACTIONAL_TOPICS = [
  "receipt",
  "order",
  "delivery",
  "reservation",
  "appointment",
  "flight-status",
  "bank-alert",
  "fraud-alert",
] as const;
export type TransactionalTopic = (typeof TRANSACTIONAL_TOPICS)[number];

/** The category a business envelope carries in cleartext metadata (its content stays encrypted). */
export type BusinessCategory = { readonly kind: "transactional"; readonly topic: TransactionalTopic } | { readonly kind: "marketing" };

/** Validates a business message category from outside (e.g. envelope metadata). */
export const businessCategorySchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("transactional"), topic: z.enum(TRANSACTIONAL_TOPICS) }),
  z.object({ kind: z.literal("marketing") }),
]);

/** The sending account as the rules need it. */
export interface BusinessSender {
  readonly id: string;
  readonly kind: AccountKind;
}

const DEFAULT_CHOICE: BusinessChoice = { blocked: false, marketingOptOut: false };

/** The recipient's choices about one business (defaults when it never chose). */
export function businessChoice(account: ConsentState, businessId: string): BusinessChoice {
  return Object.hasOwn(account.businesses, businessId) ? (account.businesses[businessId] ?? DEFAULT_CHOICE) : DEFAULT_CHOICE;
}

function withChoice(account: ConsentState, businessId: string, choice: BusinessChoice): Result<ConsentState> {
  const current = businessChoice(account, businessId);
  if (current.blocked === choice.blocked && current.marketingOptOut === choice.marketingOptOut) {
    return { ok: true, state: account };
  }
  return { ok: true, state: { ...account, businesses: { ...account.businesses, [businessId]: choice } } };
}

/** Block a business: nothing from it is delivered. Idempotent (blocking twice returns the same state). */
export function blockBusiness(account: ConsentState, businessId: string): Result<ConsentState> {
  return withChoice(account, businessId, { ...businessChoice(account, businessId), blocked: true });
}

/** Unblock a business; a marketing opt-out made earlier stays. Idempotent. */
export function unblockBusiness(account: ConsentState, businessId: string): Result<ConsentState> {
  return withChoice(account, businessId, { ...businessChoice(account, businessId), blocked: false });
}

/** Stop marketing from a business while keeping its transactional messages. Idempotent; undone by `optInToMarketing`. */
export function optOutOfMarketing(account: ConsentState, businessId: string): Result<ConsentState> {
  return withChoice(account, businessId, { ...businessChoice(account, businessId), marketingOptOut: true });
}

/** Receive marketing from a business again (undoes `optOutOfMarketing`; a block stays). Idempotent. */
export function optInToMarketing(account: ConsentState, businessId: string): Result<ConsentState> {
  return withChoice(account, businessId, { ...businessChoice(account, businessId), marketingOptOut: false });
}

/**
 * Why a categorised message from `sender` may not be delivered to `account`, or null when
 * it may. Codes: `not-a-business` (a personal account cannot send categorised messages),
 * `business-blocked`, `marketing-opted-out`.
 */
export function deliveryRefusal(account: ConsentState, sender: BusinessSender, category: BusinessCategory): Refusal | null {
  if (sender.kind !== "business") {
    return { code: "not-a-business", message: `Account ${sender.id} is not a business account and cannot send ${category.kind} messages.` };
  }
  const choice = businessChoice(account, sender.id);
  if (choice.blocked) return { code: "business-blocked", message: `The recipient has blocked business ${sender.id}.` };
  if (category.kind === "marketing" && choice.marketingOptOut) {
    return { code: "marketing-opted-out", message: `The recipient has opted out of marketing from business ${sender.id}.` };
  }
  return null;
}

/** True when a message of `category` from `sender` may be delivered to `account` (see `deliveryRefusal`). */
export function mayDeliver(account: ConsentState, sender: BusinessSender, category: BusinessCategory): boolean {
  return deliveryRefusal(account, sender, category) === null;
}
