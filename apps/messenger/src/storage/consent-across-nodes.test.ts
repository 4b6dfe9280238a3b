/**
 * Consent cached on several nodes: a customer blocks a business through node A
 * while the business sends through node B, whose cache holds the customer's state
 * from before. B must refuse at once (the announcement over NATS drops its entry),
 * not serve the stale state; and racing choices and sends through both nodes end
 * with both refusing exactly what the last choice says. Real PostgreSQL, a real
 * nats-server, the tRPC API.
 */
import { randomUUID } from "node:crypto";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNatsServer, type RunningNatsServer } from "@handshake/nats-server";
import { startTestMessenger, type TestMessenger } from "../testing";
import { httpApi, registerAccount, type TestAccount } from "../../test/helpers";

let nats: RunningNatsServer;
let a: TestMessenger;
let b: TestMessenger;

beforeAll(async () => {
  nats = await startNatsServer();
  a = await startTestMessenger({ rateLimits: false, nats: { url: nats.url, nodeId: "node-a" } });
  b = await startTestMessenger({ rateLimits: false, databaseUrl: a.databaseUrl, nats: { url: nats.url, nodeId: "node-b" } });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
  await nats?.stop();
});

/** Sends from `business` to `customer` through `node`: "stored", or the refusal's reason. */
async function sendThrough(node: TestMessenger, business: TestAccount, customer: TestAccount): Promise<string> {
  try {
    await httpApi(node.url, business.credential).message.send.mutate({
      messageId: randomUUID(),
      recipient: { accountId: customer.accountId },
      type: 1,
      content: Buffer.from("encrypted elsewhere").toString("base64"),
      category: { kind: "transactional", topic: "receipt" },
    });
    return "stored";
  } catch (error) {
    if (error instanceof TRPCClientError) return String(error.data?.reason ?? error.data?.code);
    throw error;
  }
}

async function pair() {
  const business = await registerAccount(a.url, { business: "Acme Air" });
  const customer = await registerAccount(a.url);
  return { business, customer };
}

describe("consent cached on two nodes", () => {
  it("a block through node A is honoured by node B at once, though B had the customer cached", async () => {
    const { business, customer } = await pair();
    // B caches the customer's state while it still accepts the business.
    expect(await sendThrough(b, business, customer)).toBe("stored");
    await httpApi(a.url, customer.credential).business.block.mutate({ businessId: business.accountId });
    // Well within the 5 s TTL: only the announcement can make B refuse this soon.
    const deadline = Date.now() + 1_500;
    let outcome = await sendThrough(b, business, customer);
    while (outcome === "stored" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      outcome = await sendThrough(b, business, customer);
    }
    expect(outcome).toBe("business-blocked");
    expect(await sendThrough(a, business, customer)).toBe("business-blocked");
  });

  it("blocks and unblocks racing with sends through both nodes end as the last choice says, on both", async () => {
    const pairs = await Promise.all(Array.from({ length: 8 }, () => pair()));
    await Promise.all(
      pairs.map(async ({ business, customer }, i) => {
        const toggles = 3 + (i % 3);
        const sends = (async () => {
          for (let k = 0; k < 10; k++) await sendThrough(k % 2 ? a : b, business, customer);
        })();
        for (let t = 0; t < toggles; t++) {
          const node = t % 2 ? b : a;
          const api = httpApi(node.url, customer.credential).business;
          await (t % 2 === 0 ? api.block : api.unblock).mutate({ businessId: business.accountId });
        }
        await sends;
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const [i, { business, customer }] of pairs.entries()) {
      const blocked = (3 + (i % 3)) % 2 === 1; // an odd number of toggles ends blocked
      for (const node of [a, b]) expect(await sendThrough(node, business, customer)).toBe(blocked ? "business-blocked" : "stored");
    }
  });
});
