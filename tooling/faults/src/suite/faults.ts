/**
 * The faults, each injected while senders send and accounts change their consent.
 * `inject` returns when the fault has healed (the part restarted, the proxy back
 * to passing); anything it measured goes into `notes`, and a fault-specific
 * failure into `failures` (the common checks — loss, duplicates, consent — are
 * made for every fault by the runner).
 */
import type { HandshakeDevice } from "@handshake/client";
import { RawInboxSocket } from "../load/raw-inbox-socket";
import { sleep, waitUntil } from "../load/timing";
import type { FaultStack } from "../stack/fault-stack";
import type { Cohort } from "./cohort";
import type { SuiteSize } from "./sizes";

export interface FaultContext {
  stack: FaultStack;
  size: SuiteSize;
  cohort: Cohort;
  notes: string[];
  failures: string[];
  /**
   * Starts watching the messenger's RSS from `from` (bytes, just read): the returned
   * function gives the highest RSS the runner sampled since, so a fault's growth is
   * not confused with the load phase's peaks before it.
   */
  peakRssSince(from: number): () => number;
}

export interface Fault {
  name: string;
  what: string;
  /** Needs the cohort's target devices (hostile sockets). */
  usesTarget?: boolean;
  /** How long the consent changes are spread over (default: size.consentSpreadMs). */
  consentSpreadMs?(size: SuiteSize): number;
  inject(ctx: FaultContext): Promise<void>;
}

/**
 * Bounds the server must keep against one hostile socket. They are the suite's, not
 * the relay's: any cap the relay picks must be at or under them (Signal-Server keeps
 * one socket per device).
 */
export const FLOOD_MAX_SUBSCRIPTIONS = 100;
export const SLOW_CONSUMER_RSS_BUDGET_BYTES = 32 * 1024 * 1024;
/** Under the 64 KiB ciphertext limit once encrypted (about 75 KB a frame in base64 JSON). */
const LARGE_TEXT_BYTES = 56 * 1024;

const MiB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function sendLarge(sender: HandshakeDevice, to: string, count: number): Promise<number> {
  let sent = 0;
  for (let i = 0; i < count; i++) {
    await sender.send(to, `large:${i}:${"x".repeat(LARGE_TEXT_BYTES)}`);
    sent++;
  }
  return sent;
}

export const FAULTS: Fault[] = [
  {
    name: "messenger-sigkill",
    what: "SIGKILL of the messenger mid-stream, then a restart on the same port",
    async inject({ stack, notes }) {
      const pid = stack.messenger.pid;
      await stack.messenger.kill();
      const started = Date.now();
      await stack.messenger.start();
      notes.push(`killed pid ${pid}; back after ${Date.now() - started} ms`);
    },
  },
  {
    name: "facebook-sigkill",
    what: "SIGKILL of the Facebook side while consent changes ship, restart after 1 s",
    async inject({ stack, notes }) {
      const pid = stack.facebook.pid;
      await stack.facebook.kill();
      await sleep(1_000);
      await stack.facebook.start();
      notes.push(`killed pid ${pid}`);
    },
  },
  {
    name: "postgres-restart",
    what: "PostgreSQL stopped (fast shutdown) under load and started again",
    async inject({ stack, size, notes }) {
      await stack.postgres.stop();
      await sleep(size.postgresDownMs);
      await stack.postgres.start();
      notes.push(`down ${size.postgresDownMs} ms`);
    },
  },
  {
    name: "commit-reply-lost",
    what: "proxy loses the reply to every 3rd COMMIT (the transaction is durable, the client sees a dead connection)",
    async inject({ stack, size, notes, failures }) {
      const before = stack.proxy.stats.commitRepliesDropped;
      const limit = before + (size.name === "full" ? 40 : 12);
      stack.proxy.setMode({ kind: "drop-commit-reply", every: 3, limit });
      await waitUntil(() => stack.proxy.stats.commitRepliesDropped >= limit, 10_000, 50);
      stack.proxy.setMode({ kind: "pass" });
      const dropped = stack.proxy.stats.commitRepliesDropped - before;
      notes.push(`COMMIT replies lost: ${dropped}`);
      if (dropped === 0) failures.push("the proxy saw no COMMIT to lose (fault not injected)");
    },
  },
  {
    name: "connections-cut",
    what: "proxy cuts every messenger ↔ PostgreSQL connection, three times 300 ms apart",
    async inject({ stack, notes }) {
      let cut = 0;
      for (let i = 0; i < 3; i++) {
        cut += stack.proxy.cutAll();
        await sleep(300);
      }
      notes.push(`connections cut: ${cut}`);
    },
  },
  {
    name: "facebook-outage",
    what: "Facebook side down while consent changes keep coming (20 s in the full form)",
    consentSpreadMs: (size) => size.warmupMs + size.facebookOutageMs,
    async inject({ stack, size, notes }) {
      await stack.facebook.stop();
      await sleep(size.facebookOutageMs);
      await stack.facebook.start();
      notes.push(`down ${size.facebookOutageMs / 1000} s`);
    },
  },
  {
    name: "slow-consumer",
    what: "a raw ws client that never reads, holding many inbox subscriptions, sent large messages",
    usesTarget: true,
    async inject({ stack, size, cohort, notes, failures, peakRssSince }) {
      const target = cohort.target!;
      const socket = await RawInboxSocket.open(stack.messenger.url, target.credential);
      try {
        socket.subscribe(size.slowSubscriptions);
        await waitUntil(() => socket.started.size + socket.refused.size >= socket.requested || socket.closed !== null, 10_000, 50);
        socket.stopReading();
        const rssBefore = (await stack.messenger.rssBytes()) ?? 0;
        const peakRss = peakRssSince(rssBefore);
        const sent = await sendLarge(cohort.targetSender!, target.accountId, size.slowMessages);
        // Give the server time to push what it will into the stalled socket.
        await sleep(2_000);
        const growth = Math.max(0, peakRss() - rssBefore);
        notes.push(
          `subscriptions started ${socket.started.size}/${socket.requested}, refused ${socket.refused.size}; ` +
            `${sent} × ${LARGE_TEXT_BYTES / 1024} KiB sent to it; messenger RSS +${MiB(growth)} at peak` +
            (socket.closed ? `; server closed the socket (${socket.closed.code})` : ""),
        );
        if (growth > SLOW_CONSUMER_RSS_BUDGET_BYTES) {
          failures.push(`one socket that never reads grew the messenger by ${MiB(growth)} (budget ${MiB(SLOW_CONSUMER_RSS_BUDGET_BYTES)})`);
        }
      } finally {
        socket.close();
      }
    },
  },
  {
    name: "subscription-flood",
    what: "one socket asks for thousands of inbox subscriptions at once",
    usesTarget: true,
    async inject({ stack, size, cohort, notes, failures }) {
      const target = cohort.target!;
      const socket = await RawInboxSocket.open(stack.messenger.url, target.credential);
      try {
        const started = Date.now();
        socket.subscribe(size.floodSubscriptions);
        await waitUntil(() => socket.started.size + socket.refused.size >= socket.requested || socket.closed !== null, 15_000, 50);
        const settledMs = Date.now() - started;
        await cohort.targetSender!.send(target.accountId, "one message to a flooded device");
        await waitUntil(() => socket.copies.size > 0 || socket.closed !== null, 5_000, 50);
        await sleep(500);
        notes.push(
          `subscriptions started ${socket.started.size}/${socket.requested} in ${settledMs} ms, refused ${socket.refused.size}; ` +
            `one message came down the socket ${socket.maxCopies()} times` +
            (socket.closed ? `; server closed the socket (${socket.closed.code})` : ""),
        );
        if (socket.started.size > FLOOD_MAX_SUBSCRIPTIONS) {
          failures.push(`one socket holds ${socket.started.size} inbox subscriptions (bound ${FLOOD_MAX_SUBSCRIPTIONS})`);
        }
        if (socket.maxCopies() > 1) failures.push(`one envelope went down one socket ${socket.maxCopies()} times (duplicates)`);
      } finally {
        socket.close();
      }
    },
  },
];
