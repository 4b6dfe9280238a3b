/**
 * A tiny sample for the compat smoke, in the fixture format of ../docs/fixtures.md,
 * made through the messenger's own API (the seeding library lives elsewhere; this
 * only needs a handful of accounts). Test-only.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

const device = { os: "android", osVersion: "6.0.1", appVersion: "2.16.260", model: "SM-G920F" } as const;

let counter = 0;

async function call<T>(trpcUrl: string, path: string, input: unknown, method: "GET" | "POST" = "POST"): Promise<T> {
  const response =
    method === "GET"
      ? await fetch(`${trpcUrl}/${path}?input=${encodeURIComponent(JSON.stringify(input))}`)
      : await fetch(`${trpcUrl}/${path}`, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(input) });
  const body = (await response.json()) as { result?: { data: T } };
  if (!body.result) throw new Error(`${path} failed: ${JSON.stringify(body)}`);
  return body.result.data;
}

/** Registration proves possession: request a code, read it from the simulated phone network, present it. */
async function register(trpcUrl: string, business?: string) {
  counter += 1;
  const phoneNumber = `+491577${String(process.pid % 100).padStart(2, "0")}${String(counter).padStart(5, "0")}`;
  const { sessionId } = await call<{ sessionId: string }>(trpcUrl, "account.requestCode", { phoneNumber });
  const { code } = await call<{ code: string }>(trpcUrl, "phoneSimulator.readCode", { sessionId }, "GET");
  return call<{ accountId: string; deviceId: number; credential: string; phoneNumber: string }>(trpcUrl, "account.register", {
    sessionId,
    code,
    device,
    ...(business ? { kind: "business", displayName: business } : {}),
  });
}

const behaviours = [
  { consent: "accepts", acceptsAfterDays: 1, optsOutAfterDays: null },
  { consent: "unticks", acceptsAfterDays: 2, optsOutAfterDays: null },
  { consent: "opts-out-later", acceptsAfterDays: 1, optsOutAfterDays: 3 },
  { consent: "never-accepts", acceptsAfterDays: null, optsOutAfterDays: null },
  { consent: "accepts", acceptsAfterDays: 5, optsOutAfterDays: null },
  { consent: "registered-after", acceptsAfterDays: null, optsOutAfterDays: null },
] as const;

/** Six people, one business, two outside stubs; contacts form a ring. Returns the fixture directory. */
export async function writeMiniFixture(trpcUrl: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "handshake-compat-fixture-"));
  const people = [];
  for (let n = 0; n < behaviours.length; n++) people.push(await register(trpcUrl));
  const business = await register(trpcUrl, "Compat Airline");
  const outside = [await register(trpcUrl), await register(trpcUrl)];
  const all = [...people, business];
  const users = all.map((account, n) => {
    const isBusiness = n === people.length;
    const behaviour = isBusiness ? behaviours[0] : behaviours[n]!;
    return {
      // The business's index is chosen so that, under business-broadcast's deterministic
      // choices, one of the six people blocks it and two opt out of its marketing.
      i: isBusiness ? 900_000 : 1000 + n * 7919,
      accountId: account.accountId,
      deviceId: account.deviceId,
      credential: account.credential,
      phone: account.phoneNumber,
      country: "DE",
      shard: 0,
      os: "android",
      activity: "regular",
      messagesPerDay: 10 + n,
      business: isBusiness,
      displayName: isBusiness ? "Compat Airline" : null,
      ...behaviour,
      registeredAt: "2015-03-01T00:00:00.000Z",
      contacts: isBusiness ? [0, 1, 2] : [(n + 1) % people.length, (n + people.length - 1) % people.length],
      outsideContacts: [5_000_000 + n],
    };
  });
  const meta = {
    version: 1,
    seed: 2016,
    size: 1_000_000_000,
    shardCount: 10_000,
    shards: [0],
    users: users.length,
    createdAt: new Date().toISOString(),
    messenger: { databaseName: "compat" },
    outside: outside.map((o) => ({ accountId: o.accountId, deviceId: o.deviceId })),
  };
  await writeFile(path.join(dir, "users.json"), JSON.stringify(users));
  await writeFile(path.join(dir, "meta.json"), JSON.stringify(meta));
  return dir;
}
