import { z } from "zod";

/**
 * What Facebook may use a shared datum for. From the 2016 FAQ: ads and product
 * experiences (friend suggestions) are what the opt-out covers; the data still flowed for
 * infrastructure, metrics (counting unique users across services), security and fighting
 * spam. https://faq.whatsapp.com/general/26000016 (2016, "How do I choose not to share…")
 */
export const PURPOSES = ["ads", "product", "metrics", "security", "spam", "infrastructure"] as const;

export type Purpose = (typeof PURPOSES)[number];

/** Validates a purpose name from outside. */
export const purposeSchema = z.enum(PURPOSES);

/** The purposes a user's "don't share" choice covers under the 2016 rules. */
export const CHOICE_PURPOSES: readonly Purpose[] = ["ads", "product"];

/** True for `ads` and `product`: the purposes that need the user's share choice. */
export function isChoicePurpose(purpose: Purpose): boolean {
  return CHOICE_PURPOSES.includes(purpose);
}
