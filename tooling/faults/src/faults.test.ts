/**
 * The fault suite's short form as tests: each fault is one test, which fails on
 * any lost or duplicated message, any share event Facebook never ingested, any
 * account whose Facebook data disagrees with its newest consent after catch-up,
 * any consent change that was never recorded, and any service crash. The stack
 * is real and separate processes (PostgreSQL, messenger, Facebook side), the
 * clients are the SDK's (libsignal, WebSockets). The table is printed at the end.
 *
 * Expected to fail until the fixes of issue 10 land (see README.md, "What fails today").
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAULTS, formatTable, FaultSuite, SHORT, type FaultResult } from "./index";

let suite: FaultSuite | null = null;
const results: FaultResult[] = [];

beforeAll(async () => {
  suite = await FaultSuite.start(SHORT);
}, 240_000);

afterAll(async () => {
  if (results.length > 0) console.log(`fault suite (short form)\n${formatTable(results)}`);
  await suite?.stop();
}, 60_000);

describe("under each fault, every durable message reaches its device once and Facebook agrees with consent", () => {
  for (const fault of FAULTS) {
    it(`${fault.name}: ${fault.what}`, async () => {
      const result = await suite!.run(fault);
      results.push(result);
      expect(result.failures, formatTable([result])).toEqual([]);
      // A fault that moved nothing would prove nothing.
      expect(result.messages.acknowledged).toBeGreaterThan(0);
      expect(result.share.written).toBeGreaterThan(0);
    }, 240_000);
  }
});
