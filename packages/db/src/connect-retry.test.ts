import { inject, describe, expect, it } from "vitest";
import { isUnreachable, retryWhileUnreachable, waitForDatabase, type RetryLog } from "./connect-retry";
import { freePort } from "./embedded";

function recordingLog() {
  const lines: { level: "warn" | "info"; fields: Record<string, unknown>; message: string }[] = [];
  const log: RetryLog = {
    warn: (fields, message) => lines.push({ level: "warn", fields, message }),
    info: (fields, message) => lines.push({ level: "info", fields, message }),
  };
  return { log, lines };
}

describe("isUnreachable", () => {
  it("recognises socket, postgres.js and PostgreSQL start/stop codes, also wrapped", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    expect(isUnreachable(refused)).toBe(true);
    expect(isUnreachable(Object.assign(new Error("starting up"), { code: "57P03" }))).toBe(true);
    expect(isUnreachable(Object.assign(new Error("closed"), { code: "CONNECTION_CLOSED" }))).toBe(true);
    expect(isUnreachable(Object.assign(new Error("08006"), { code: "08006" }))).toBe(true);
    expect(isUnreachable(new Error("Failed query", { cause: refused }))).toBe(true);
    expect(isUnreachable(new AggregateError([refused], "all failed"))).toBe(true);
  });

  it("does not retry what waiting cannot fix", () => {
    expect(isUnreachable(Object.assign(new Error("password authentication failed"), { code: "28P01" }))).toBe(false);
    expect(isUnreachable(Object.assign(new Error("database does not exist"), { code: "3D000" }))).toBe(false);
    expect(isUnreachable(new TypeError("x is not a function"))).toBe(false);
    expect(isUnreachable(null)).toBe(false);
  });
});

describe("retryWhileUnreachable", () => {
  it("retries with doubling, logged delays until the attempt succeeds, then says so", async () => {
    const { log, lines } = recordingLog();
    let calls = 0;
    const result = await retryWhileUnreachable(
      "connect",
      "postgres://u:secret@127.0.0.1:6543/app",
      async () => {
        calls++;
        if (calls < 4) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
        return "up";
      },
      { log, minDelayMs: 5, maxDelayMs: 20 },
    );
    expect(result).toBe("up");
    expect(calls).toBe(4);
    expect(lines.filter((line) => line.level === "warn").map((line) => line.fields.retryInMs)).toEqual([5, 10, 20]);
    expect(lines[0]!.message).toContain("database not reachable (connect, attempt 1)");
    expect(lines[0]!.fields.database).toBe("127.0.0.1:6543/app");
    expect(JSON.stringify(lines)).not.toContain("secret");
    expect(lines.at(-1)).toMatchObject({ level: "info", fields: { attempts: 4 } });
  });

  it("fails at once, without retrying, on an error that waiting cannot fix (a wrong password on a real server)", async () => {
    const { log, lines } = recordingLog();
    const url = new URL(inject("postgresAdminUrl"));
    url.password = "not-the-password";
    await expect(waitForDatabase(url.toString(), { log, minDelayMs: 5 })).rejects.toMatchObject({ code: "28P01" });
    expect(lines).toEqual([]);
  });

  it("gives up after its deadline with an error naming the target and the attempts", async () => {
    const { log, lines } = recordingLog();
    const port = await freePort(); // nothing listens there
    const error = await waitForDatabase(`postgres://postgres:pw@127.0.0.1:${port}/postgres`, { log, minDelayMs: 20, maxDelayMs: 50, giveUpAfterMs: 400 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(new RegExp(`database 127\\.0\\.0\\.1:${port}/postgres still not reachable after \\d+ attempts .*ECONNREFUSED`));
    expect(lines.length).toBeGreaterThanOrEqual(2);
  });

  it("connects to a real server that is up", async () => {
    const { log, lines } = recordingLog();
    await waitForDatabase(inject("postgresAdminUrl"), { log });
    expect(lines).toEqual([]);
  });
});
