/**
 * Finding messenger data inside arbitrary text (a Facebook row rendered as JSON):
 * message ids, and ciphertext as hex or base64, by fixed-size fingerprints that
 * are looked up at every offset of each hex or base64 run in the text.
 */

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
/** A ciphertext window: 24 bytes (48 hex characters, 32 base64 characters, no padding). */
export const WINDOW_BYTES = 24;
const HEX_RUN = /[0-9a-f]{32,}/gi;
const BASE64_RUN = new RegExp(`[A-Za-z0-9+/_-]{${(WINDOW_BYTES / 3) * 4},}`, "g");

/** Every UUID in the text, lower case, with dashes. */
export function uuidsIn(text: string): string[] {
  return (text.match(UUID) ?? []).map((u) => u.toLowerCase());
}

/**
 * Message ids (UUIDs) to look for, stored without dashes, so that both the usual
 * form and a 32-hex form without dashes are recognised.
 */
export class MessageIdIndex {
  private readonly ids = new Set<string>();

  get size(): number {
    return this.ids.size;
  }

  add(messageId: string): void {
    this.ids.add(messageId.replaceAll("-", "").toLowerCase());
  }

  /** The first message id found in the text, with dashes, or null. */
  findIn(text: string, uuids: string[] = uuidsIn(text)): string | null {
    if (this.ids.size === 0) return null;
    for (const uuid of uuids) {
      const bare = uuid.replaceAll("-", "");
      if (this.ids.has(bare)) return uuid;
    }
    for (const run of text.match(HEX_RUN) ?? []) {
      const lower = run.toLowerCase();
      for (let i = 0; i + 32 <= lower.length; i++) {
        const window = lower.slice(i, i + 32);
        if (this.ids.has(window)) return withDashes(window);
      }
    }
    return null;
  }
}

function withDashes(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Fingerprints of sampled ciphertexts. From each envelope's content, a 24-byte
 * window starting at a multiple of 3 (so its base64 is a substring of the whole
 * content's base64) is kept as lower-case hex, standard base64 and base64url.
 * Text holding the whole ciphertext (or any fragment covering the window) in one
 * of those encodings, or as a PostgreSQL bytea (hex), is found.
 */
export class CiphertextIndex {
  private readonly hex = new Map<string, string>();
  private readonly base64 = new Map<string, string>();

  get size(): number {
    return this.hex.size;
  }

  /** Adds an envelope's content; contents shorter than the window are skipped (returns false). */
  add(envelopeId: string, content: Buffer): boolean {
    if (content.length < WINDOW_BYTES) return false;
    // The middle of the content: away from protocol headers that repeat across messages.
    const offset = Math.floor((content.length - WINDOW_BYTES) / 2 / 3) * 3;
    const window = content.subarray(offset, offset + WINDOW_BYTES);
    this.hex.set(window.toString("hex"), envelopeId);
    this.base64.set(window.toString("base64"), envelopeId);
    this.base64.set(window.toString("base64url"), envelopeId);
    return true;
  }

  /** The id of an envelope whose ciphertext appears in the text, or null. */
  findIn(text: string): string | null {
    if (this.hex.size === 0) return null;
    const hexLength = WINDOW_BYTES * 2;
    for (const run of text.match(HEX_RUN) ?? []) {
      if (run.length < hexLength) continue;
      const lower = run.toLowerCase();
      for (let i = 0; i + hexLength <= lower.length; i++) {
        const found = this.hex.get(lower.slice(i, i + hexLength));
        if (found !== undefined) return found;
      }
    }
    const b64Length = (WINDOW_BYTES / 3) * 4;
    for (const run of text.match(BASE64_RUN) ?? []) {
      for (let i = 0; i + b64Length <= run.length; i++) {
        const found = this.base64.get(run.slice(i, i + b64Length));
        if (found !== undefined) return found;
      }
    }
    return null;
  }
}

/**
 * Who wrote to whom, as unordered pairs of account ids (the envelope metadata the
 * design keeps away from Facebook).
 */
export class PairIndex {
  private readonly pairs = new Set<string>();

  get size(): number {
    return this.pairs.size;
  }

  add(a: string, b: string): void {
    this.pairs.add(pairKey(a.toLowerCase(), b.toLowerCase()));
  }

  /** A pair of the given ids (from one row) that messaged each other, or null. */
  findAmong(uuids: string[]): [string, string] | null {
    if (this.pairs.size === 0 || uuids.length < 2) return null;
    const distinct = [...new Set(uuids)];
    for (let i = 0; i < distinct.length; i++) {
      for (let j = i + 1; j < distinct.length; j++) {
        if (this.pairs.has(pairKey(distinct[i]!, distinct[j]!))) return [distinct[i]!, distinct[j]!];
      }
    }
    return null;
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
