/**
 * Several nodes, one simulation clock: a move made through node A is seen by node B
 * (with its effects: a holdout's open stream on B ends at the deadline), moves racing
 * through both nodes never take either clock or the stored one backwards, and a node
 * that cannot read the database keeps its clock and catches up after. Real
 * PostgreSQL, a real nats-server, WebSocket clients.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresFaultProxy } from "@handshake/db/fault-proxy";
import { startNatsServer, type RunningNatsServer } from "@handshake/nats-server";
import { readSimClockState } from "./storage/clock";
import { startTestMessenger, TEST_ADMIN_TOKEN, type TestMessenger } from "./testing";
import { httpApi, registerAccount, wsApi } from "../test/helpers";

const BEFORE_ANNOUNCEMENT = new Date("2016-08-20T08:00:00Z");

let nats: RunningNatsServer;
let proxy: PostgresFaultProxy;
let a: TestMessenger;
let b: TestMessenger;

beforeAll(async () => {
  nats = await startNatsServer();
  a = await startTestMessenger({ rateLimits: false, simStart: BEFORE_ANNOUNCEMENT, nats: { url: nats.url, nodeId: "node-a" } });
  // B reaches PostgreSQL through a proxy the last test cuts.
  proxy = await PostgresFaultProxy.start(a.databaseUrl);
  b = await startTestMessenger({
    rateLimits: false,
    databaseUrl: a.databaseUrl,
    connectUrl: (url) => proxy.url(url),
    nats: { url: nats.url, nodeId: "node-b" },
  });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
  await proxy?.close();
  await nats?.stop();
});

const admin = (node: TestMessenger) => httpApi(node.url, undefined, TEST_ADMIN_TOKEN).admin;
const nowAt = (node: TestMessenger) => node.server.services.clock.now().getTime();

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("the simulation clock across nodes", () => {
  it("a move through node A reaches node B, and a holdout's stream on B ends at the deadline", async () => {
    const holdout = await registerAccount(b.url);
    await admin(a).setClock.mutate({ at: "2016-08-26T12:00:00.000Z" });
    await until("node B to follow node A's move", () => nowAt(b) >= Date.parse("2016-08-26T12:00:00Z"));

    const deadline = new Date((await holdout.api.terms.current.query()).acceptanceDeadline!);
    const ws = wsApi(b.url, holdout.credential);
    const errors: string[] = [];
    let started!: () => void;
    const ready = new Promise<void>((resolve) => (started = resolve));
    const sub = ws.api.inbox.stream.subscribe(undefined, {
      onStarted: () => started(),
      onError: (error) => errors.push((error as { data?: { code?: string } }).data?.code ?? error.message),
    });
    await ready;
    // Past the deadline, moved through A only: B's stream of the holdout ends FORBIDDEN.
    await admin(a).setClock.mutate({ at: new Date(deadline.getTime() + 60_000).toISOString() });
    await until("the holdout's stream on node B to end", () => errors.length > 0);
    expect(errors).toEqual(["FORBIDDEN"]);
    sub.unsubscribe();
    ws.close();
  });

  it("moves racing through both nodes never take a clock, or the stored one, backwards", async () => {
    const start = Math.max(nowAt(a), nowAt(b)) + 60_000;
    const targets = Array.from({ length: 40 }, (_, i) => start + ((i * 7919) % 40) * 3_600_000);
    const samples = { a: [] as number[], b: [] as number[] };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.a.push(nowAt(a));
        samples.b.push(nowAt(b));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    // Each call either moves that node forward or is refused (its clock is already later).
    await Promise.all(
      targets.map((at, i) => admin(i % 2 === 0 ? a : b).setClock.mutate({ at: new Date(at).toISOString() }).catch(() => null)),
    );
    const latest = Math.max(...targets);
    await until("both nodes at the latest move", () => nowAt(a) >= latest && nowAt(b) >= latest);
    sampling = false;
    await sampler;
    for (const series of [samples.a, samples.b]) {
      for (let i = 1; i < series.length; i++) expect(series[i]!).toBeGreaterThanOrEqual(series[i - 1]!);
    }
    const stored = await readSimClockState(a.server.services.sql);
    expect(stored!.simMs - stored!.realMs + Date.now()).toBeGreaterThanOrEqual(latest);
    // Both nodes tell the same time (within the follow interval and the test's own delay).
    expect(Math.abs(nowAt(a) - nowAt(b))).toBeLessThan(2_000);
  });

  it("a node cut off from PostgreSQL keeps its clock, and catches up once it is back", async () => {
    const before = nowAt(b);
    proxy.block();
    const target = Math.max(nowAt(a), before) + 10 * 24 * 3_600_000;
    await admin(a).setClock.mutate({ at: new Date(target).toISOString() });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // Flowing at real speed from where it was, not jumped, and not broken.
    expect(nowAt(b)).toBeLessThan(target);
    expect(nowAt(b)).toBeGreaterThanOrEqual(before);
    proxy.unblock();
    await until("node B to catch up after the outage", () => nowAt(b) >= target, 15_000);
  });
});
