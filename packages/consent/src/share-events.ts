/**
 * The share event: the only thing that crosses from WhatsApp to Facebook. It is
 * a full snapshot of what may be shared about one account at one moment, each
 * field with the purposes it may serve (decided by `shareableFields`).
 *
 * Strict on purpose: a field outside the catalogue (message content, contacts,
 * envelope metadata) or a purpose the catalogue does not allow for that field
 * fails validation, so the receiver refuses it.
 */
import { z } from "zod";
import { FIELD_CATALOGUE, type ShareableField } from "./fields";
import { purposeSchema, type Purpose } from "./purposes";

const isoDate = z.iso.datetime({ offset: true });

function sharedValue<T extends z.ZodType>(field: ShareableField, value: T) {
  const allowed: readonly Purpose[] = FIELD_CATALOGUE[field];
  return z.object({
    value,
    purposes: z
      .array(purposeSchema)
      .min(1)
      .refine((purposes) => purposes.every((p) => allowed.includes(p)), {
        message: `${field} may only serve ${allowed.join(", ")}`,
      }),
  });
}

export const sharedFieldsSchema = z
  .object({
    phoneNumber: sharedValue("phoneNumber", z.string().regex(/^\+[1-9][0-9]{6,14}$/)),
    registeredAt: sharedValue("registeredAt", isoDate),
    lastSeen: sharedValue("lastSeen", isoDate),
    messagesSentCount: sharedValue(
      "messagesSentCount",
      z.object({
        /** The simulated day `today` counts. */
        day: z.iso.date(),
        today: z.number().int().min(0),
        total: z.number().int().min(0),
      }),
    ),
    activeDaysCount: sharedValue("activeDaysCount", z.number().int().min(0)),
    os: sharedValue("os", z.string().max(32)),
    osVersion: sharedValue("osVersion", z.string().max(32)),
    appVersion: sharedValue("appVersion", z.string().max(32)),
    deviceModel: sharedValue("deviceModel", z.string().max(64)),
    country: sharedValue("country", z.string().regex(/^[A-Z]{2}$/)),
  })
  .partial()
  .strict();

export type SharedFields = z.infer<typeof sharedFieldsSchema>;

export const SHARE_EVENT_KINDS = ["account", "consent", "usage", "regime"] as const;

export const shareEventSchema = z
  .object({
    eventId: z.uuid(),
    /**
     * The account's snapshot number, assigned under a per-account lock before the
     * snapshot's consent was read: a later snapshot of an account always has a larger
     * sequence and newer state. Comparable only within one account.
     */
    sequence: z.number().int().min(0),
    whatsappAccountId: z.uuid(),
    kind: z.enum(SHARE_EVENT_KINDS),
    occurredAt: isoDate,
    /** Everything that may be held about the account now; absent fields must be deleted. */
    fields: sharedFieldsSchema,
  })
  .strict();

export type ShareEvent = z.infer<typeof shareEventSchema>;

/** Most events in one ingest call. */
export const MAX_SHARE_EVENTS_PER_BATCH = 500;

export const shareBatchSchema = z.object({
  events: z.array(shareEventSchema).min(1).max(MAX_SHARE_EVENTS_PER_BATCH),
});
