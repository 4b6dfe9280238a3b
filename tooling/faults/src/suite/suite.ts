/**
 * The fault suite: one stack, one cohort of fresh accounts per fault, each fault
 * injected under load, then reconciled. `FaultSuite.start` registers every
 * cohort before the 2016 terms are announced (so all are existing users with a
 * share choice), then moves the simulation clock past the announcement.
 */
import { createTRPCClient, httpLink } from "@trpc/client";
import type { AppRouter } from "@handshake/messenger";
import { runConsentChanges, type ConsentRecord } from "../load/consent";
import { sleep, waitUntil, withTimeout } from "../load/timing";
import {
  consentFigures,
  durableMessageIds,
  messageFigures,
  shareFigures,
  undelivered,
  unshippedEvents,
  withDatabase,
  type ConsentFigures,
  type MessageFigures,
  type ShareFigures,
} from "../reconcile/reconcile";
import { startFaultStack, type Crash, type FaultStack } from "../stack/fault-stack";
import { acceptBeforeFault, cohortAccounts, phoneSequence, registerCohort, type Cohort } from "./cohort";
import { FAULTS, type Fault } from "./faults";
import type { SuiteSize } from "./sizes";

/** The regime the messenger runs under: one rule for every account, replayed by reconciliation. */
export const SUITE_REGIME = "optout-2016";
/** An hour after the 2016 terms were announced. */
const AFTER_ANNOUNCEMENT = "2016-08-25T01:00:00Z";

export interface FaultResult {
  fault: string;
  what: string;
  messages: MessageFigures;
  share: ShareFigures;
  consent: ConsentFigures & { changes: number; gaveUp: number };
  rss: { before: number | null; peak: number; after: number | null };
  /** From the fault healing to every delivery and share event caught up (null: not within catchUpMs). */
  catchUpMs: number | null;
  crashes: Crash[];
  notes: string[];
  failures: string[];
  durationMs: number;
}

export class FaultSuite {
  private readonly cohorts = new Map<string, Cohort>();

  private constructor(
    readonly stack: FaultStack,
    readonly size: SuiteSize,
    readonly faults: Fault[],
  ) {}

  /** Starts the stack and registers a cohort for each of `faults` (default: all). */
  static async start(size: SuiteSize, faults: Fault[] = FAULTS, log: (line: string) => void = () => {}): Promise<FaultSuite> {
    const stack = await startFaultStack({ regime: SUITE_REGIME });
    try {
      log(`stack up: postgres :${stack.postgres.port} (proxy :${stack.proxy.port}), messenger :${stack.messenger.port}, facebook :${stack.facebook.port}`);
      const suite = new FaultSuite(stack, size, faults);
      const phones = phoneSequence();
      // Cohorts register side by side (each one's devices one pair at a time).
      const cohorts = await Promise.all(
        faults.map((fault) => registerCohort(stack.messenger.url, fault.name, size, phones, Boolean(fault.usesTarget))),
      );
      faults.forEach((fault, i) => suite.cohorts.set(fault.name, cohorts[i]!));
      const admin = createTRPCClient<AppRouter>({
        links: [httpLink({ url: stack.messenger.url, headers: { "x-admin-token": stack.adminToken } })],
      });
      await admin.admin.setClock.mutate({ at: AFTER_ANNOUNCEMENT });
      for (const cohort of suite.cohorts.values()) await acceptBeforeFault(cohort);
      log(`${faults.length} cohorts registered (${size.pairs} pairs and ${size.consentAccounts} consent accounts each)`);
      return suite;
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.stack.stop();
  }

  /** Runs one fault under load and reconciles. Never throws for a failed check: see `failures`. */
  async run(fault: Fault): Promise<FaultResult> {
    const { stack, size } = this;
    const cohort = this.cohorts.get(fault.name);
    if (!cohort) throw new Error(`no cohort registered for ${fault.name}`);
    const began = Date.now();
    const crashesBefore = stack.crashes.length;
    const notes: string[] = [];
    const failures: string[] = [];
    let peak = 0;
    /** Peaks watched from a point of the fault on (`peakRssSince`). */
    const marks: { peak: number }[] = [];
    const sampler = setInterval(() => {
      void stack.messenger.rssBytes().then((rss) => {
        peak = Math.max(peak, rss ?? 0);
        for (const mark of marks) mark.peak = Math.max(mark.peak, rss ?? 0);
      });
    }, 100);
    const consentLog: ConsentRecord[] = [];
    const rssBefore = await stack.messenger.rssBytes();
    peak = rssBefore ?? 0;
    let healedAt = Date.now();
    try {
      await withTimeout(cohort.messaging.connectRecipients(), 30_000);
      cohort.messaging.start();
      const consentDone = runConsentChanges(
        {
          fresh: cohort.consent,
          sharing: cohort.messaging.senders,
          durationMs: fault.consentSpreadMs?.(size) ?? size.consentSpreadMs,
          giveUpMs: size.giveUpMs,
        },
        consentLog,
      );
      await sleep(size.warmupMs);
      // Mid-stream for real: every sender has had messages acknowledged before the fault.
      await waitUntil(() => cohort.messaging.acknowledgedCount() >= 2 * size.pairs, 15_000, 50);
      const peakRssSince = (from: number) => {
        const mark = { peak: from };
        marks.push(mark);
        return () => mark.peak;
      };
      await fault.inject({ stack, size, cohort, notes, failures, peakRssSince });
      healedAt = Date.now();
      await this.restartCrashed(notes);
      await sleep(size.cooldownMs);
      await cohort.messaging.stop();
      await consentDone;
    } catch (error) {
      failures.push(`the fault run itself failed: ${error instanceof Error ? error.message : String(error)}`);
      for (const service of [stack.messenger, stack.facebook]) {
        for (const line of service.recentLines().slice(-4)) notes.push(`${service.name}: ${line.slice(0, 300)}`);
      }
      await cohort.messaging.stop().catch(() => {});
    }
    await this.restartCrashed(notes);

    // Catch-up: every expected delivery made and every share event of these accounts shipped.
    const accounts = cohortAccounts(cohort);
    const ledger = cohort.messaging.ledger;
    const caughtUp = await waitUntil(
      () =>
        withDatabase(stack.messengerDatabaseUrl, async (sql) => {
          const durable = await durableMessageIds(sql, ledger);
          return undelivered(ledger, durable).length === 0 && (await unshippedEvents(sql, accounts)) === 0;
        }).catch(() => false),
      size.catchUpMs,
      250,
    );
    const catchUpMs = caughtUp ? Date.now() - healedAt : null;
    await cohort.messaging.close();
    clearInterval(sampler);

    const [messages, share, consent] = await withDatabase(stack.messengerDatabaseUrl, (messenger) =>
      withDatabase(stack.facebookDatabaseUrl, async (facebook) => [
        await messageFigures(messenger, ledger),
        await shareFigures(messenger, facebook, accounts),
        await consentFigures(messenger, facebook, accounts, SUITE_REGIME),
      ] as const),
    );
    const gaveUp = consentLog.filter((r) => r.outcome === "gave-up" || r.outcome === "refused");
    const unacknowledged = ledger.sent.filter((s) => !s.acknowledged).length;
    const crashes = stack.crashes.slice(crashesBefore);
    if (unacknowledged > 0) {
      const reasons = [...new Set(ledger.sent.flatMap((s) => (!s.acknowledged && s.lastError ? [s.lastError.slice(0, 160)] : [])))];
      notes.push(`${unacknowledged} sends never acknowledged (sender gave up after ${size.giveUpMs / 1000} s): ${reasons.join("; ") || "no error seen"}`);
      for (const line of stack.messenger.recentLines().slice(-4)) notes.push(`messenger: ${line.slice(0, 300)}`);
      for (const line of await databaseSessions(stack.messengerDatabaseUrl)) notes.push(`messenger db: ${line}`);
    }
    if (messages.storedUnacknowledged > 0) notes.push(`${messages.storedUnacknowledged} stored without the sender hearing so`);
    if (messages.stillQueued > 0) notes.push(`${messages.stillQueued} envelopes still queued for the recipients`);
    if (messages.undecryptable > 0) notes.push(`${messages.undecryptable} envelopes the recipients' SDK reported failed (ack lost, or not decryptable)`);
    if (!caughtUp) notes.push(`not caught up within ${size.catchUpMs / 1000} s of the fault healing`);

    if (messages.lost > 0) failures.push(`${messages.lost} durable messages never reached their device (e.g. ${messages.lostExamples.join(", ")})`);
    if (messages.duplicated > 0) failures.push(`${messages.duplicated} messages decrypted more than once`);
    if (share.missing > 0) failures.push(`${share.missing} share events written but not ingested by Facebook`);
    if (consent.disagreements > 0) {
      const example = consent.examples[0];
      failures.push(
        `${consent.disagreements} accounts whose Facebook data disagrees with their newest consent` +
          (example
            ? ` (e.g. ${example.accountId}: allowed ${JSON.stringify(example.expected.phoneNumber ?? [])} for the phone, ` +
              `held ${JSON.stringify(example.held.phoneNumber ?? [])}; its client's changes: ` +
              `${consentLog.filter((r) => r.accountId === example.accountId).map((r) => `${r.change} ${r.outcome} after ${r.attempts}`).join(", ") || "none"})`
            : ""),
      );
    }
    if (gaveUp.length > 0) failures.push(`${gaveUp.length} consent changes never recorded (${gaveUp[0]?.detail ?? ""})`);
    for (const crash of crashes) {
      // The uncaught error node printed, else the last error the service logged.
      const cause =
        crash.lastLines.find((line) => /^\s*(\w*Error|Error)\b/.test(line)) ??
        crash.lastLines.findLast((line) => /error/i.test(line)) ??
        crash.lastLines.at(-1) ??
        "";
      failures.push(`${crash.service} crashed (${crash.how}): ${cause.trim().slice(0, 200)}`);
    }

    return {
      fault: fault.name,
      what: fault.what,
      messages,
      share,
      consent: { ...consent, changes: consentLog.filter((r) => r.outcome === "recorded" || r.outcome === "already").length, gaveUp: gaveUp.length },
      rss: { before: rssBefore, peak, after: await stack.messenger.rssBytes() },
      catchUpMs,
      crashes,
      notes,
      failures,
      durationMs: Date.now() - began,
    };
  }

  /** A service that crashed is started again (the crash itself is a failure of the fault). */
  private async restartCrashed(notes: string[]): Promise<void> {
    if (!this.stack.postgres.up) await this.stack.postgres.start();
    for (const service of [this.stack.messenger, this.stack.facebook]) {
      if (!service.running) {
        await service.start();
        notes.push(`${service.name} restarted after it crashed`);
      }
    }
  }
}

/**
 * What the messenger's database sessions are doing (for a report where sends were
 * never acknowledged): each session's state, what it waits on, for how long, and
 * who holds the lock it waits for.
 */
async function databaseSessions(url: string): Promise<string[]> {
  try {
    return await withDatabase(url, async (sql) => {
      const rows = await sql<{ pid: number; state: string | null; wait: string | null; xact_s: number | null; blocked_by: number[]; query: string }[]>`
        select pid, state, wait_event_type || ':' || wait_event as wait,
               extract(epoch from now() - xact_start)::float8 as xact_s,
               pg_blocking_pids(pid) as blocked_by, left(regexp_replace(query, '\s+', ' ', 'g'), 120) as query
        from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and application_name like 'messenger%'
        order by xact_start nulls last`;
      return rows.map(
        (r) =>
          `pid ${r.pid} ${r.state ?? "?"}${r.wait ? ` waiting ${r.wait}` : ""}${r.xact_s !== null ? ` in a transaction for ${r.xact_s.toFixed(1)} s` : ""}` +
          `${r.blocked_by.length > 0 ? ` blocked by ${r.blocked_by.join(",")}` : ""}: ${r.query}`,
      );
    });
  } catch (error) {
    return [`(could not read pg_stat_activity: ${error instanceof Error ? error.message : String(error)})`];
  }
}
