import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres, type RunningPostgres } from "@handshake/db/embedded";
import { repoRoot, services } from "./stack";
import { Supervisor } from "./supervisor";

// Each service, started while its PostgreSQL is down, waits (logging each attempt)
// and becomes ready once the database comes up. Its own PostgreSQL: the run's
// shared server (tooling/test-postgres) cannot be stopped under other test files.

const scratch = await mkdtemp(path.join(tmpdir(), "handshake-startup-"));
await chmod(scratch, 0o755);
const dataDir = path.join(scratch, "pg");
let pg: RunningPostgres | null = await startEmbeddedPostgres({ dataDir, ephemeral: true });
const { port, url: serverUrl } = pg;
await pg.stop(); // initialised, now down
pg = null;

const supervisors: Supervisor[] = [];
afterAll(async () => {
  await Promise.all(supervisors.map((supervisor) => supervisor.stop()));
  await pg?.stop();
  await rm(scratch, { recursive: true, force: true });
});

interface LogLine {
  msg?: string;
  url?: string;
  attempt?: number;
  retryInMs?: number;
  [key: string]: unknown;
}

describe.each(["messenger", "facebook"])("%s started while PostgreSQL is down", (name) => {
  it("retries with backoff, logging each attempt, and becomes ready once the database is up", { timeout: 120_000 }, async () => {
    const service = services.find((s) => s.name === name)!;
    await pg?.stop(); // down again (the previous service's test brought it up)
    pg = null;
    const log: LogLine[] = [];
    const waiters = new Set<() => void>();
    const seen = (test: (line: LogLine) => boolean) =>
      new Promise<LogLine>((resolve, reject) => {
        const check = () => {
          const line = log.find(test);
          if (line) {
            waiters.delete(check);
            resolve(line);
          } else if (supervisor.gaveUp) {
            waiters.delete(check);
            reject(new Error(`${name} exited (code ${supervisor.gaveUp.code}):\n${log.map((l) => JSON.stringify(l)).join("\n")}`));
          }
        };
        waiters.add(check);
        check();
      });
    const supervisor = new Supervisor(
      {
        name,
        command: process.execPath,
        args: ["--import", "tsx", service.entry],
        cwd: path.join(repoRoot, service.cwd),
        env: { ...process.env, DATABASE_URL: serverUrl, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", HANDSHAKE_DATA_DIR: scratch },
      },
      {
        maxRestarts: 0,
        onLine: (_, line) => {
          try {
            log.push(JSON.parse(line) as LogLine);
          } catch {
            log.push({ msg: line });
          }
          for (const wake of waiters) wake();
        },
        onNotice: () => {
          for (const wake of waiters) wake();
        },
      },
    );
    supervisors.push(supervisor);

    // Two logged attempts against the stopped server, the second after a longer delay.
    await seen((line) => line.attempt === 2 && typeof line.msg === "string" && line.msg.startsWith("database not reachable"));
    const attempts = log.filter((line) => line.msg?.startsWith("database not reachable"));
    expect(attempts[0]).toMatchObject({ attempt: 1, database: `127.0.0.1:${port}/postgres`, retryInMs: 250 });
    expect(attempts[0]!.error).toMatch(/ECONNREFUSED/);
    expect(attempts[1]!.retryInMs).toBe(500);
    expect(JSON.stringify(attempts)).not.toContain("handshake@"); // no password in the log
    expect(supervisor.running).toBe(true);

    pg = await startEmbeddedPostgres({ dataDir, port, ephemeral: true });
    const listening = await seen((line) => line.msg === `${name} listening`);
    const health = await fetch(new URL("/healthz", listening.url!));
    expect(health.status).toBe(200);
    expect(log.some((line) => typeof line.msg === "string" && /^database reachable \(create database\) after \d+ attempts$/.test(line.msg))).toBe(true);
  });
});
