/**
 * The load report reads the services' Prometheus figures: scrapes of a real
 * messenger and Facebook side before and after some work, turned into the rows
 * the report prints; a service that cannot be scraped is named, not zeroed.
 */
import { randomUUID } from "node:crypto";
import { createTRPCClient, httpLink } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@handshake/db/embedded";
import type { AppRouter as FacebookRouter } from "@handshake/facebook";
import { startTestFacebook, type TestFacebook } from "@handshake/facebook/testing";
import { startTestMessenger, TEST_SERVICE_TOKEN, type TestMessenger } from "@handshake/messenger/testing";
import { buildReport, type RunFacts } from "./report";
import { scrapeServices, serviceRows } from "./service-metrics";

let messenger: TestMessenger;
let facebook: TestFacebook;
beforeAll(async () => {
  messenger = await startTestMessenger({ rateLimits: false });
  facebook = await startTestFacebook({ serviceToken: TEST_SERVICE_TOKEN });
}, 60_000);
afterAll(async () => {
  await messenger?.close();
  await facebook?.close();
});

const origin = (url: string) => url.replace(/\/trpc$/, "");

describe("service figures in the load report", () => {
  it("prints what the servers did between two scrapes, beside k6's numbers", async () => {
    const targets = { messenger: origin(messenger.url), facebook: origin(facebook.url) };
    const before = await scrapeServices(targets);
    const shipper = createTRPCClient<FacebookRouter>({
      links: [httpLink({ url: facebook.url, headers: { authorization: `Bearer ${TEST_SERVICE_TOKEN}`, "x-share-enqueued-at": String(Date.now() - 1_500) } })],
    });
    const events = [randomUUID(), randomUUID()].map((account) => ({
      eventId: randomUUID(),
      sequence: 1,
      whatsappAccountId: account,
      kind: "consent" as const,
      occurredAt: new Date().toISOString(),
      fields: { lastSeen: { value: "2016-08-26T09:00:00.000Z", purposes: ["product" as const] } },
    }));
    await shipper.ingest.batch.mutate({ events });
    const after = await scrapeServices(targets);
    const rows = Object.fromEntries(serviceRows(before, after));
    expect(rows["server: messages stored / delivered (acked)"]).toBe("0 / 0");
    expect(rows["server: ingest batches / events accepted / duplicates"]).toBe("1 / 2 / 0");
    expect(rows["server: ingest lag, mean"]).toMatch(/^1\.\d+ s over 1 batches$/);

    const facts: RunFacts = {
      scenario: "steady", shards: 1, shardCount: 10_000, population: 1_000_000, level: "average", rate: null,
      durationSeconds: 10, target: targets.messenger, k6ExitCode: 0, startedAt: new Date(),
    };
    const report = buildReport(facts, { metrics: {} }, { startedAt: null, seconds: [] }, serviceRows(before, after));
    expect(report.markdown).toContain("## Server figures (/metrics, after − before)");
    expect(report.markdown).toContain("| server: ingest batches / events accepted / duplicates | 1 / 2 / 0 |");
    expect(report.html).toContain("<h2>Server figures (/metrics, after − before)</h2>");
  });

  it("names a service it could not scrape instead of printing zeros", async () => {
    const nothing = `http://127.0.0.1:${await freePort()}`;
    const before = await scrapeServices({ messenger: nothing });
    const rows = serviceRows(before, await scrapeServices({ messenger: nothing }));
    expect(rows).toHaveLength(1);
    expect(rows[0]![0]).toBe("messenger /metrics");
    expect(rows[0]![1]).toMatch(/^not read: /);
  });
});
