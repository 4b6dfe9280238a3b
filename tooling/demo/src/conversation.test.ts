/**
 * The demo's conversation against a real messenger: every message arrives as it was
 * typed, the server holds and relays only ciphertext (no plaintext in its bytes),
 * Bob's queue is empty after delivery, and Alice gets her delivery receipts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMessenger, type TestMessenger } from "@handshake/messenger/testing";
import { converse } from "./conversation";

let messenger: TestMessenger;

beforeAll(async () => {
  messenger = await startTestMessenger({ rateLimits: false });
});
afterAll(async () => {
  await messenger?.close();
});

describe("pnpm demo's conversation", () => {
  it("shows plaintext at the ends and only ciphertext in the middle", async () => {
    const lines: string[] = [];
    const result = await converse({ url: messenger.url, sql: messenger.server.services.sql, print: (line) => lines.push(line) });
    expect(result.said).toHaveLength(5);
    expect(result.decrypted).toEqual(result.said);
    expect(result.ciphertexts).toHaveLength(5);
    for (const [i, ciphertext] of result.ciphertexts.entries()) {
      const bytes = Buffer.from(ciphertext, "base64");
      expect(bytes.length).toBeGreaterThan(result.said[i]!.length);
      expect(bytes.toString("latin1")).not.toContain(result.said[i]!.slice(0, 12));
    }
    expect(result.queueLeftForBob).toBe(0);
    expect(result.receipts).toBe(3);
    const printed = lines.join("\n");
    for (const text of result.said) expect(printed).toContain(`"${text}"`);
    expect(printed).toContain("5. Delivery receipts:");
  });
});
