import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres, type RunningPostgres } from "./embedded";

// Regression test for the postgres.js patch (patches/postgres@3.4.9.patch,
// porsager/postgres#1154/#1208). Unpatched, the child dies with an uncaught
// `TypeError: Cannot read properties of null (reading 'write')` on the first or
// second restart. It gets a PostgreSQL of its own: the run's shared server
// (tooling/test-postgres) must not be restarted under the other test files.

const here = path.dirname(fileURLToPath(import.meta.url));
const loadScript = path.resolve(here, "../test/pool-under-load.ts");
const RESTARTS = 6;
const RESUMED = 150; // queries that must succeed after each restart

interface Counts {
  ok: number;
  failed: number;
  errors: Record<string, number>;
  done?: boolean;
}

/** Follows the child's counter lines; `until` rejects if the child exits first. */
function follow(child: ChildProcessWithoutNullStreams) {
  let latest: Counts = { ok: 0, failed: 0, errors: {} };
  let stderr = "";
  const waiters = new Set<() => void>();
  let buffered = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) if (line.startsWith("{")) latest = JSON.parse(line) as Counts;
    for (const wake of waiters) wake();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    get latest() {
      return latest;
    },
    exited,
    until(what: string, ready: (counts: Counts) => boolean, timeoutMs = 30_000): Promise<Counts> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`timed out waiting for ${what}; last counts ${JSON.stringify(latest)}`)), timeoutMs);
        const check = () => ready(latest) && done();
        const done = (error?: Error) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve(latest);
        };
        waiters.add(check);
        void exited.then((code) => done(new Error(`the process died (exit ${code}) while waiting for ${what}:\n${stderr.slice(-2_000)}`)));
        check();
      });
    },
  };
}

describe("a postgres.js pool across PostgreSQL restarts", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it(`survives ${RESTARTS} restarts under load without crashing, and its queries resume after each`, { timeout: 240_000 }, async () => {
    const scratch = await mkdtemp(path.join(tmpdir(), "handshake-restart-"));
    await chmod(scratch, 0o755);
    cleanup.push(() => rm(scratch, { recursive: true, force: true }));
    const dataDir = path.join(scratch, "pg");
    let pg: RunningPostgres = await startEmbeddedPostgres({ dataDir, ephemeral: true });
    cleanup.push(() => pg.stop());

    const child = spawn(process.execPath, ["--import", "tsx", loadScript, pg.url, "60"], { stdio: ["pipe", "pipe", "pipe"] });
    cleanup.push(async () => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    const load = follow(child);
    let resumedAt = (await load.until("the load to start", (c) => c.ok >= RESUMED)).ok;

    for (let restart = 1; restart <= RESTARTS; restart++) {
      console.log(`restart ${restart}: stopping PostgreSQL at ${JSON.stringify(load.latest)}`);
      await pg.stop();
      pg = await startEmbeddedPostgres({ dataDir, port: pg.port, ephemeral: true });
      console.log(`restart ${restart}: PostgreSQL is up again`);
      const from = Math.max(resumedAt, load.latest.ok);
      resumedAt = (await load.until(`${RESUMED} queries after restart ${restart}`, (c) => c.ok >= from + RESUMED)).ok;
      expect(child.exitCode, `alive after restart ${restart}`).toBeNull();
    }

    child.stdin.end();
    // Bounded, so a query that never settles fails with the counts instead of a test timeout.
    const exitCode = await Promise.race([load.exited, new Promise((resolve) => setTimeout(() => resolve("still running 30 s after stdin closed"), 30_000))]);
    expect(exitCode, `the load stops once asked; last counts ${JSON.stringify(load.latest)}`).toBe(0);
    const final = load.latest;
    expect(final.done).toBe(true);
    // Every failure was a connection error the caller could catch and retry.
    const connectionErrors = ["CONNECTION_CLOSED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "ECONNREFUSED", "ECONNRESET", "EPIPE", "57P01", "57P03"];
    expect(Object.keys(final.errors).filter((code) => !connectionErrors.includes(code))).toEqual([]);
  });
});
