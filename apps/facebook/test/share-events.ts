/** Builds share events as the messenger's shipper sends them (format: @handshake/consent share-events). */
import { randomUUID } from "node:crypto";
import type { ShareEvent } from "@handshake/consent";

export function shareEvent(whatsappAccountId: string, fields: ShareEvent["fields"], sequence = 1): ShareEvent {
  return {
    eventId: randomUUID(),
    sequence,
    whatsappAccountId,
    kind: "consent",
    occurredAt: new Date().toISOString(),
    fields,
  };
}
