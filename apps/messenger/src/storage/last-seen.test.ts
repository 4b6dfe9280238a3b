/**
 * Last-seen times: an inbox connect no longer waits for its own commit; the time is
 * written with other devices' within a second. Real PostgreSQL, real WebSockets.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openInbox, registerAccount } from "../../test/helpers";
import { startTestMessenger, type TestMessenger } from "../testing";
import { LastSeenRecorder } from "./last-seen";

let messenger: TestMessenger;
beforeAll(async () => {
  messenger = await startTestMessenger({ rateLimits: false });
});
afterAll(async () => {
  await messenger?.close();
});

const lastSeen = async (accountId: string) =>
  (await messenger.server.services.sql<{ last_seen_at: Date | null }[]>`
    select last_seen_at from devices where account_id = ${accountId} and device_id = 1`)[0]!.last_seen_at;

const quietLog = { warn: () => {} } as unknown as ConstructorParameters<typeof LastSeenRecorder>[1];

describe("LastSeenRecorder", () => {
  it("writes an inbox connect's time within a second of the connect", async () => {
    const alice = await registerAccount(messenger.url);
    const before = await lastSeen(alice.accountId);
    const connectedFrom = messenger.server.services.clock.now().getTime();
    const inbox = openInbox(messenger.url, alice);
    await inbox.ready;
    const connectedBy = messenger.server.services.clock.now().getTime();
    await expect.poll(() => lastSeen(alice.accountId), { timeout: 3_000, interval: 100 }).not.toEqual(before);
    const seen = (await lastSeen(alice.accountId))!.getTime();
    expect(seen).toBeGreaterThanOrEqual(connectedFrom);
    expect(seen).toBeLessThanOrEqual(connectedBy);
    inbox.close();
  });

  it("writes many devices in one statement, keeps the newest time, and never moves a time back", async () => {
    const accounts = await Promise.all(Array.from({ length: 20 }, () => registerAccount(messenger.url)));
    const recorder = new LastSeenRecorder(() => messenger.server.services.sql, quietLog, 60_000);
    const t0 = new Date("2016-09-01T10:00:00Z");
    const later = new Date(t0.getTime() + 60_000);
    for (const a of accounts) recorder.touch({ accountId: a.accountId, deviceId: 1 }, t0);
    recorder.touch({ accountId: accounts[0]!.accountId, deviceId: 1 }, later); // the newest touch wins
    await recorder.flush();
    expect(await lastSeen(accounts[0]!.accountId)).toEqual(later);
    for (const a of accounts.slice(1)) expect(await lastSeen(a.accountId)).toEqual(t0);
    // A late batch carrying an older time (another node's, say) leaves the newer one.
    recorder.touch({ accountId: accounts[0]!.accountId, deviceId: 1 }, t0);
    await recorder.close();
    expect(await lastSeen(accounts[0]!.accountId)).toEqual(later);
  });

  it("touches racing a flush all land (in this flush or the next), and a database that is gone costs a log line, not a throw", async () => {
    const accounts = await Promise.all(Array.from({ length: 10 }, () => registerAccount(messenger.url)));
    const recorder = new LastSeenRecorder(() => messenger.server.services.sql, quietLog, 60_000);
    const at = new Date("2016-09-02T10:00:00Z");
    const flushes: Promise<void>[] = [];
    accounts.forEach((a, i) => {
      recorder.touch({ accountId: a.accountId, deviceId: 1 }, at);
      if (i % 3 === 0) flushes.push(recorder.flush());
    });
    await Promise.all([...flushes, recorder.close()]);
    for (const a of accounts) expect(await lastSeen(a.accountId)).toEqual(at);

    const gone = postgres(messenger.databaseUrl, { max: 1, onnotice: () => {} });
    await gone.end();
    const warnings: unknown[] = [];
    const failing = new LastSeenRecorder(() => gone, { warn: (fields: unknown) => warnings.push(fields) } as unknown as ConstructorParameters<typeof LastSeenRecorder>[1], 60_000);
    failing.touch({ accountId: accounts[0]!.accountId, deviceId: 1 }, at);
    await expect(failing.flush()).resolves.toBeUndefined();
    expect(warnings).toHaveLength(1);
  });
});
