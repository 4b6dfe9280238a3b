/**
 * custom-audience's leak check (scenarios/lib/leaks.ts) on made-up answers: it must
 * flag a phone, a 64-hex hash or a profile, and must not flag an ordinary answer
 * (UUIDs and dates hold digits and hex too).
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";

type Result = { ok: true; data: unknown; durationMs: number; body: string | null } | { ok: false; error: unknown; durationMs: number; body: string | null };
const { leaksIn } = (await import(/* @vite-ignore */ "../scenarios/lib/leaks.ts")) as { leaksIn: (r: Result) => string[] };

const answer = (data: unknown): Result => ({ ok: true, data, durationMs: 1, body: JSON.stringify({ result: { data } }) });
const view = {
  audienceId: "12345678-9012-4345-8789-012345678901",
  name: "list 3",
  uploadedRows: 30_000,
  createdAt: "2016-09-02T10:11:12.000Z",
  size: { tooSmall: false, lower: 10_000, upper: 20_000, label: "10,000–20,000" },
  receivedRows: 10_000,
};

describe("custom-audience leak check", () => {
  it("passes an ordinary upload answer and a list (all-digit UUID groups, dates, sizes)", () => {
    expect(leaksIn(answer(view))).toEqual([]);
    expect(leaksIn(answer({ audiences: [view, { ...view, size: { tooSmall: true } }] }))).toEqual([]);
  });

  it("flags a phone number, a hash, a profile id and unexpected keys", () => {
    expect(leaksIn(answer({ ...view, name: "+2347111436713" }))).toContain("a phone-like digit run");
    const hash = createHash("sha256").update("2347111436713").digest("hex");
    expect(leaksIn(answer({ ...view, name: hash }))).toContain("a 64-hex hash");
    expect(leaksIn(answer({ ...view, matched: [{ profileId: 42 }] }))).toEqual(
      expect.arrayContaining(["a profile", "unexpected keys matched,profileId"]),
    );
  });

  it("checks error answers as text", () => {
    const body = JSON.stringify({ error: { message: "row 2347111436713 is not valid", data: { code: "BAD_REQUEST" } } });
    expect(leaksIn({ ok: false, error: {}, durationMs: 1, body })).toEqual(["a phone-like digit run"]);
  });
});
