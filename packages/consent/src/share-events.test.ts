import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { shareEventSchema } from "./share-events";

const event = (fields: Record<string, unknown>) => ({
  eventId: randomUUID(),
  sequence: 1,
  whatsappAccountId: randomUUID(),
  kind: "consent",
  occurredAt: "2016-08-26T10:00:00.000Z",
  fields,
});

describe("the share event format", () => {
  it("accepts catalogued fields with purposes the catalogue allows", () => {
    const parsed = shareEventSchema.safeParse(
      event({
        phoneNumber: { value: "+4915123456789", purposes: ["ads", "spam"] },
        messagesSentCount: { value: { day: "2016-08-26", today: 3, total: 40 }, purposes: ["spam"] },
      }),
    );
    expect(parsed.success).toBe(true);
  });

  it("refuses anything outside the catalogue, such as message content or contacts", () => {
    expect(shareEventSchema.safeParse(event({ content: { value: "hi", purposes: ["ads"] } })).success).toBe(false);
    expect(shareEventSchema.safeParse(event({ contacts: { value: ["+1"], purposes: ["product"] } })).success).toBe(false);
    expect(shareEventSchema.safeParse({ ...event({}), ciphertext: "AAAA" }).success).toBe(false);
  });

  it("refuses a purpose the catalogue does not allow for that field", () => {
    // The OS version serves infrastructure, metrics and security, never ads.
    const parsed = shareEventSchema.safeParse(event({ osVersion: { value: "6.0.1", purposes: ["ads"] } }));
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toMatch(/osVersion may only serve/);
  });
});
