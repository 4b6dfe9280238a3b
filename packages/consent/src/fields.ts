import { z } from "zod";
import { PURPOSES, type Purpose } from "./purposes";
import type { RegimeInput } from "./regimes";
import { mayShare } from "./sharing";
import type { ConsentState } from "./state";

/**
 * Every account datum that may ever be shared with Facebook, and the purposes each may
 * serve. The 2016 privacy policy names the phone number, "last used" and usage/log
 * information, and device and connection information (hardware model, operating system,
 * app version, mobile network); https://www.whatsapp.com/legal/privacy-policy (2016-08-25).
 *
 * Which datum serves which purpose is our assumption, chosen so that each purpose uses
 * only what it plausibly needs (e.g. the OS version helps infrastructure, not ads).
 *
 * Never here, for any purpose: message content, contact lists, and envelope metadata
 * (who messaged whom, when, message sizes). Adding any of them is a design change.
 */
export const FIELD_CATALOGUE = {
  phoneNumber: ["ads", "product", "metrics", "security", "spam"],
  registeredAt: ["metrics", "security", "spam"],
  lastSeen: ["ads", "product", "metrics", "security", "spam"],
  messagesSentCount: ["metrics", "spam"],
  activeDaysCount: ["ads", "product", "metrics"],
  os: ["metrics", "security", "infrastructure"],
  osVersion: ["metrics", "security", "infrastructure"],
  appVersion: ["metrics", "security", "infrastructure"],
  deviceModel: ["ads", "metrics", "infrastructure"],
  country: ["ads", "product", "metrics", "spam", "infrastructure"],
} as const satisfies Record<string, readonly Purpose[]>;

export type ShareableField = keyof typeof FIELD_CATALOGUE;

export const SHAREABLE_FIELDS = Object.keys(FIELD_CATALOGUE) as ShareableField[];

/** Validates a field name from outside. */
export const shareableFieldSchema = z.enum(SHAREABLE_FIELDS as [ShareableField, ...ShareableField[]]);

/** For each field, the purposes it may be shared for now; fields allowed for no purpose are absent. */
export type ShareableFields = Partial<Record<ShareableField, Purpose[]>>;

/**
 * What the share pipeline may send for this account at `at` under `regime`: each field
 * with the purposes (in `PURPOSES` order) that both the catalogue and `mayShare` allow.
 */
export function shareableFields(account: ConsentState, at: Date, regime: RegimeInput): ShareableFields {
  const allowed = PURPOSES.filter((purpose) => mayShare(account, purpose, at, regime));
  const result: ShareableFields = {};
  for (const field of SHAREABLE_FIELDS) {
    const catalogued: readonly Purpose[] = FIELD_CATALOGUE[field];
    const purposes = allowed.filter((purpose) => catalogued.includes(purpose));
    if (purposes.length > 0) result[field] = purposes;
  }
  return result;
}
