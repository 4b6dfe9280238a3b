/**
 * Load messages: random bytes the server cannot tell from ciphertext (scripts cannot
 * run libsignal), with the send time in the first 8 bytes so the recipient measures
 * send -> receipt latency itself. The server never looks inside.
 */
import { randomBytes } from "k6/crypto";
import { b64decode, b64encode } from "k6/encoding";
import { MESSAGE_SIZE_MIX } from "../../src/model/figures.ts";

/** A ciphertext size drawn from the model's size mix. */
export function drawSize(random: () => number = Math.random): number {
  let u = random();
  for (const size of MESSAGE_SIZE_MIX) {
    if (u < size.weight) return size.minBytes + Math.floor(random() * (size.maxBytes - size.minBytes + 1));
    u -= size.weight;
  }
  return MESSAGE_SIZE_MIX[0]!.minBytes;
}

export function timestampedContent(bytes: number, sentAtMs: number): string {
  const buffer = randomBytes(Math.max(8, bytes));
  new DataView(buffer).setFloat64(0, sentAtMs);
  return b64encode(buffer, "std");
}

/** The send time a load message carries, or null for receipts and foreign content. */
export function sentAtOf(content: string): number | null {
  if (content.length < 12) return null;
  const buffer = b64decode(content, "std");
  if (buffer.byteLength < 8) return null;
  const at = new DataView(buffer).getFloat64(0);
  return Number.isFinite(at) && at > 1e12 ? at : null;
}

/** A random (version 4) UUID from k6's Web Crypto. */
export function uuid(): string {
  return crypto.randomUUID();
}

/**
 * A message id that carries its send time: a UUIDv7 (RFC 9562: 48-bit Unix time in
 * ms, version 7, then random bits, here taken from crypto.randomUUID()). The delivery
 * receipt echoes the message id, so whichever VU holds the sender's socket can time
 * send -> receipt without sharing memory with the VU that sent.
 */
export function messageIdAt(sentAtMs: number): string {
  const random = crypto.randomUUID().replace(/-/g, "");
  const hex = Math.floor(sentAtMs).toString(16).padStart(12, "0").slice(-12) + "7" + random.slice(13);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The send time in a UUIDv7 message id (ms), or null for any other id. */
export function sentAtOfMessageId(id: string): number | null {
  if (id.length !== 36 || id[14] !== "7") return null;
  const at = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  return Number.isFinite(at) && at > 1e12 ? at : null;
}
