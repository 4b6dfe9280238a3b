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

/** A random (version 4) UUID for client-chosen message ids. */
export function uuid(): string {
  const b = new Uint8Array(randomBytes(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
