/**
 * One send per arrival-rate iteration: a connected user, picked by how much they write,
 * sends to a connected contact (delivered and acked: a receipt comes back) or to a
 * contact outside the sample (stored only). The message id is a UUIDv7 carrying the
 * send time, so the holder of the sender's socket times the receipt.
 */
import { check } from "k6";
import { drawSize, messageIdAt, timestampedContent } from "./content.ts";
import { config } from "./config.ts";
import { outsideRecipient, users, type FixtureUser } from "./fixtures.ts";
import type { ConnectedLayout } from "./layout.ts";
import { errors, messagesSent, receiptsExpected, transportErrors } from "./metrics.ts";
import { mutate } from "./trpc-http.ts";

function recipientFor(layout: ConnectedLayout, sender: FixtureUser, senderIndex: number): { accountId: string; deviceId: number; expectReceipt: boolean } {
  if (Math.random() < config.deliveredShare && layout.size > 1) {
    const inside = sender.contacts.filter((c) => c !== senderIndex && layout.has(c));
    let pick = inside.length > 0 ? inside[Math.floor(Math.random() * inside.length)]! : senderIndex;
    while (pick === senderIndex) pick = layout.random();
    const user = users[pick]!;
    return { accountId: user.accountId, deviceId: user.deviceId, expectReceipt: true };
  }
  const outside = sender.outsideContacts;
  const contactId = outside.length > 0 ? outside[Math.floor(Math.random() * outside.length)]! : sender.i;
  return { ...outsideRecipient(contactId), expectReceipt: false };
}

export async function sendMessage(layout: ConnectedLayout): Promise<void> {
  const index = layout.randomSender();
  const sender = users[index]!;
  const to = recipientFor(layout, sender, index);
  const sentAt = Date.now();
  const result = await mutate<{ envelopeId: string }>(
    "message.send",
    { messageId: messageIdAt(sentAt), recipient: { accountId: to.accountId, deviceId: to.deviceId }, type: 1, content: timestampedContent(drawSize(), sentAt) },
    { credential: sender.credential },
  );
  const tags = { to: to.expectReceipt ? "connected" : "outside" };
  errors.add(!result.ok, { what: "message.send" });
  if (!result.ok && result.error.code === "NETWORK") transportErrors.add(1, { what: "message.send" });
  check(result, { "message.send accepted": (r) => r.ok });
  if (!result.ok) return;
  messagesSent.add(1, tags);
  if (to.expectReceipt) receiptsExpected.add(1);
}
