/**
 * The privacy audit: reads both databases and runs the seven checks (see README).
 * Consent history is loaded once and replayed per account; Facebook's tables are
 * streamed once each.
 */
import { HISTORICAL_TIMELINE, type RegimeInput, type Timeline } from "@handshake/consent";
import { rawClient } from "@handshake/db/client";
import { advertiserResponsesClean } from "./checks/advertiser-responses-clean";
import type { ConsentContext } from "./checks/context";
import { heldNowAllowedNow } from "./checks/held-now-allowed-now";
import { newestSnapshotHeld } from "./checks/newest-snapshot-held";
import { noChoiceUseAfterOptOut } from "./checks/no-choice-use-after-opt-out";
import { noMessageData } from "./checks/no-message-data";
import { nothingUnderBan } from "./checks/nothing-under-ban";
import { purposeAllowedAtUse } from "./checks/purpose-allowed-at-use";
import { ConsentHistory } from "./consent-history";
import { RegimeHistory } from "./regime-history";
import { CHECK_IDS, CheckRecorder, type CheckId, type CheckResult } from "./report";
import { countAccountRows, loadFacebookIdentifiers, visitAccountRows } from "./sources/facebook";
import {
  loadAccounts,
  loadCiphertextSample,
  loadConsentEvents,
  loadLatestRecordedTime,
  loadMessageData,
  loadPhoneDigits,
  loadRegimeChanges,
  loadSimulatedNow,
  loadUnshippedAccounts,
} from "./sources/messenger";

/** Where the audit is in its work, for a progress display. */
export interface AuditProgress {
  phase:
    | "loading messenger data"
    | "scanning Facebook rows"
    | "replaying consent"
    | "comparing newest snapshots"
    | "scanning advertiser responses";
  done: number;
  total: number;
}

export interface AuditOptions {
  /** The messenger's database (with a shard map, its home: accounts, consent, share events). */
  messengerUrl: string;
  /**
   * With a shard map, the messenger's other databases: their queues (message ids, pairs,
   * ciphertexts) are searched for in Facebook's rows too. Everything else is on home.
   */
  messengerShardUrls?: string[];
  facebookUrl: string;
  /** The messenger's timeline (default: the 2016 one, which the messenger uses unless configured otherwise). */
  timeline?: Timeline;
  /** The regime assumed when `regime_changes` is empty (the messenger's default, `historical-2016`). */
  defaultRegime?: RegimeInput;
  /** Queued ciphertexts fingerprinted for check 1 (default 2,000). */
  ciphertextSample?: number;
  /** Newest rows of envelopes and of accepted_messages whose message ids and pairs are searched (default 2,000,000 each). */
  maxMessageRows?: number;
  /** Breaches kept in full per check (default 5). */
  exampleLimit?: number;
  /** Unshipped share events younger than this are a withdrawal in flight, not a breach (check 6; default 5 minutes). */
  withdrawalGraceMs?: number;
  /** "Now" in simulated time; default: the messenger's simulation clock. */
  now?: Date;
  onProgress?: (progress: AuditProgress) => void;
}

export interface AuditReport {
  checks: CheckResult[];
  /** Breaches over all checks. */
  breaches: number;
  /** The simulated time taken as "now". */
  now: Date;
  /** Rows examined over all checks. */
  examined: number;
  durationMs: number;
}

/**
 * Runs every check against the two databases and reports each one. Never writes.
 * Throws only when a database cannot be read; breaches are in the report.
 */
export async function runPrivacyAudit(options: AuditOptions): Promise<AuditReport> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => {});
  const messenger = rawClient(options.messengerUrl, { max: 2, applicationName: "privacy-audit" });
  const facebook = rawClient(options.facebookUrl, { max: 2, applicationName: "privacy-audit" });
  const shards = (options.messengerShardUrls ?? []).map((url) => rawClient(url, { max: 1, applicationName: "privacy-audit" }));
  const exampleLimit = options.exampleLimit ?? 5;
  const recorders = Object.fromEntries(CHECK_IDS.map((id) => [id, new CheckRecorder(id, exampleLimit)])) as Record<
    CheckId,
    CheckRecorder
  >;
  try {
    progress({ phase: "loading messenger data", done: 0, total: 4 });
    const [accounts, events, regimeRows, simulatedNow] = await Promise.all([
      loadAccounts(messenger),
      loadConsentEvents(messenger),
      loadRegimeChanges(messenger),
      loadSimulatedNow(messenger),
    ]);
    progress({ phase: "loading messenger data", done: 1, total: 4 });
    const [messages, ciphertexts] = await Promise.all([
      loadMessageData([messenger, ...shards], options.maxMessageRows ?? 2_000_000),
      loadCiphertextSample([messenger, ...shards], options.ciphertextSample ?? 2_000),
    ]);
    progress({ phase: "loading messenger data", done: 2, total: 4 });
    const phoneDigits = new Set<string>();
    await loadPhoneDigits(messenger, phoneDigits);
    const profileIds = await loadFacebookIdentifiers(facebook, phoneDigits);
    const unshipped = await loadUnshippedAccounts(messenger, options.withdrawalGraceMs ?? 5 * 60_000);
    progress({ phase: "loading messenger data", done: 3, total: 4 });
    const now = options.now ?? simulatedNow ?? (await loadLatestRecordedTime(messenger)) ?? new Date();
    const regimes = new RegimeHistory(regimeRows, options.defaultRegime ?? "historical-2016");
    const history = new ConsentHistory(accounts, events.byAccount, regimes, options.timeline ?? HISTORICAL_TIMELINE);
    progress({ phase: "loading messenger data", done: 4, total: 4 });

    await noMessageData(facebook, { messages, ciphertexts }, recorders["no-message-data"], (done, total) =>
      progress({ phase: "scanning Facebook rows", done, total }),
    );

    const ctx: ConsentContext = { history, regimes, now };
    const ban = nothingUnderBan(ctx, recorders["nothing-under-ban"]);
    const held = heldNowAllowedNow(ctx, recorders["held-now-allowed-now"], unshipped.recent);
    const total = await countAccountRows(facebook);
    const choice = noChoiceUseAfterOptOut(ctx, recorders["no-choice-use-after-opt-out"]);
    const allowed = purposeAllowedAtUse(ctx, recorders["purpose-allowed-at-use"]);
    await visitAccountRows(facebook, [ban, choice, allowed, held], (done) => progress({ phase: "replaying consent", done, total }));
    for (const visitor of [ban, choice, allowed, held]) visitor.finish();
    if (regimes.size === 0) {
      for (const id of ["nothing-under-ban", "purpose-allowed-at-use", "held-now-allowed-now"] as const) {
        recorders[id].note(`regime_changes is empty: ${JSON.stringify(options.defaultRegime ?? "historical-2016")} assumed`);
      }
    }
    if (unshipped.stuck > 0) {
      recorders["held-now-allowed-now"].note(`${unshipped.stuck} accounts have share events unshipped for longer than the grace period`);
    }

    await newestSnapshotHeld(messenger, facebook, ctx, recorders["newest-snapshot-held"], (done) =>
      progress({ phase: "comparing newest snapshots", done, total: done }),
    );

    await advertiserResponsesClean(facebook, { profileIds, phoneDigits }, recorders["advertiser-responses-clean"], (done) =>
      progress({ phase: "scanning advertiser responses", done, total: done }),
    );

    const checks = CHECK_IDS.map((id) => recorders[id].result());
    return {
      checks,
      breaches: checks.reduce((sum, c) => sum + c.breaches, 0),
      now,
      examined: checks.reduce((sum, c) => sum + c.examined, 0),
      durationMs: performance.now() - started,
    };
  } finally {
    await Promise.all([messenger, facebook, ...shards].map((sql) => sql.end({ timeout: 5 })));
  }
}
