/**
 * Reconciliation after a fault: the messenger's database, the Facebook side's
 * database and the clients' own ledgers, compared.
 *
 * - Messages. Expected = every send the server acknowledged, plus every send it
 *   stored without managing to say so (`accepted_messages`): a durable envelope
 *   must reach its device exactly once, whatever the sender heard. Lost =
 *   expected but never decrypted by the recipient; duplicated = decrypted more
 *   than once; out of order = decrypted after a later message of the same sender.
 * - Share events. Written = the outbox rows of the scenario's accounts; ingested
 *   = those event ids in Facebook's `ingested_events`; missing = the difference.
 * - Consent. Each account's newest consent is the fold of its `consent_events`
 *   through @handshake/consent (as the messenger folds them); what Facebook holds
 *   (`shared_data`: field → purposes) must carry exactly the purposes that consent
 *   allows now. More is a leak; a missing phone number (every account has one)
 *   where it is allowed is a grant that never arrived.
 */
import {
  applyChoice,
  HISTORICAL_TIMELINE,
  newAccount,
  recordedChoice,
  RegimeTimeline,
  regimeInputSchema,
  shareableFields,
  type ConsentState,
  type CountryCode,
  type RegimeInput,
} from "@handshake/consent";
import postgres from "postgres";
import type { MessagingLedger } from "../load/messaging";

export interface MessageFigures {
  acknowledged: number;
  /** Stored by the server although the sender never got an answer (counted as expected). */
  storedUnacknowledged: number;
  delivered: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Still queued for the recipients in the messenger's database after catch-up. */
  stillQueued: number;
  /** Envelopes the recipients' SDK could not decrypt (replays of an envelope already decrypted included). */
  undecryptable: number;
  /** A few lost message ids, for the report. */
  lostExamples: string[];
}

export interface ShareFigures {
  written: number;
  ingested: number;
  missing: number;
  unshipped: number;
}

export interface ConsentFigures {
  accounts: number;
  disagreements: number;
  examples: { accountId: string; expected: Record<string, string[]>; held: Record<string, string[]> }[];
}

type Sql = postgres.Sql;

/**
 * A uuid[] literal: `sql.array` of strings went out as a plain "a,b,c" text on
 * these one-query connections ("malformed array literal"), so pass the literal.
 */
function uuidArray(ids: readonly string[]): string {
  for (const id of ids) if (!/^[0-9a-f-]{36}$/i.test(id)) throw new Error(`not a uuid: ${id}`);
  return `{${ids.join(",")}}`;
}

/** A short-lived connection: nothing of ours stays open while PostgreSQL restarts. */
export async function withDatabase<T>(url: string, use: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    return await use(sql);
  } finally {
    await sql.end({ timeout: 2 });
  }
}

/** Message ids of `expected` not yet decrypted by their recipient. */
export function undelivered(ledger: MessagingLedger, durable: ReadonlySet<string>): string[] {
  const delivered = new Set(ledger.recipients.flatMap((r) => r.delivered.map((d) => d.messageId)));
  const expected = new Set([...ledger.sent.filter((s) => s.acknowledged).map((s) => s.messageId), ...durable]);
  return [...expected].filter((id) => !delivered.has(id));
}

/** Message ids the server stored for the ledger's senders. */
export async function durableMessageIds(sql: Sql, ledger: MessagingLedger): Promise<Set<string>> {
  if (ledger.senderAccountIds.length === 0) return new Set();
  const rows = await sql<{ message_id: string }[]>`
    select message_id from accepted_messages where sender_account_id = any(${uuidArray(ledger.senderAccountIds)}::uuid[])`;
  return new Set(rows.map((r) => r.message_id));
}

export async function messageFigures(sql: Sql, ledger: MessagingLedger): Promise<MessageFigures> {
  const durable = await durableMessageIds(sql, ledger);
  const acknowledged = ledger.sent.filter((s) => s.acknowledged);
  const acknowledgedIds = new Set(acknowledged.map((s) => s.messageId));
  const storedUnacknowledged = [...durable].filter((id) => !acknowledgedIds.has(id)).length;
  const counts = new Map<string, number>();
  let outOfOrder = 0;
  for (const recipient of ledger.recipients) {
    const newest = new Map<number, number>();
    for (const d of recipient.delivered) {
      const copies = (counts.get(d.messageId) ?? 0) + 1;
      counts.set(d.messageId, copies);
      if (copies > 1) continue; // a duplicate, counted as such, not also as out of order
      const before = newest.get(d.sender) ?? -1;
      if (d.seq < before) outOfOrder += 1;
      else newest.set(d.sender, d.seq);
    }
  }
  const lost = undelivered(ledger, durable);
  const recipients = ledger.recipients.map((r) => r.accountId);
  const [queued] = recipients.length
    ? await sql<{ n: number }[]>`
        select count(*)::int as n from envelopes
        where recipient_account_id = any(${uuidArray(recipients)}::uuid[]) and type <> 5`
    : [{ n: 0 }];
  return {
    acknowledged: acknowledged.length,
    storedUnacknowledged,
    delivered: counts.size,
    lost: lost.length,
    duplicated: [...counts.values()].reduce((sum, n) => sum + (n - 1), 0),
    outOfOrder,
    stillQueued: queued?.n ?? 0,
    undecryptable: ledger.recipients.reduce((sum, r) => sum + r.failures.filter((f) => f.envelopeId !== "stream").length, 0),
    lostExamples: lost.slice(0, 3),
  };
}

/** Outbox rows of these accounts not yet acknowledged by Facebook. */
export async function unshippedEvents(sql: Sql, accountIds: string[]): Promise<number> {
  if (accountIds.length === 0) return 0;
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from share_outbox where account_id = any(${uuidArray(accountIds)}::uuid[]) and shipped_at is null`;
  return row?.n ?? 0;
}

export async function shareFigures(messenger: Sql, facebook: Sql, accountIds: string[]): Promise<ShareFigures> {
  if (accountIds.length === 0) return { written: 0, ingested: 0, missing: 0, unshipped: 0 };
  const written = await messenger<{ event_id: string; shipped: boolean }[]>`
    select event_id, shipped_at is not null as shipped from share_outbox where account_id = any(${uuidArray(accountIds)}::uuid[])`;
  const ids = written.map((w) => w.event_id);
  const ingested = ids.length
    ? await facebook<{ event_id: string }[]>`select event_id from ingested_events where event_id = any(${uuidArray(ids)}::uuid[])`
    : [];
  return {
    written: written.length,
    ingested: ingested.length,
    missing: written.length - ingested.length,
    unshipped: written.filter((w) => !w.shipped).length,
  };
}

interface EventRow {
  account_id: string;
  kind: "terms-accepted" | "share-opted-out" | "business-blocked" | "business-unblocked" | "marketing-opted-out";
  policy_version: string;
  share_with_facebook: boolean | null;
  business_account_id: string | null;
  at: Date;
}

/** The newest consent state of each account, folded as the messenger folds it. */
async function newestConsent(sql: Sql, accountIds: string[], fallbackRegime: RegimeInput) {
  const regimeRows = await sql<{ regime: unknown; at: Date }[]>`select regime, at from regime_changes order by id`;
  const regimes = new RegimeTimeline(
    regimeRows.map((r) => ({ regime: regimeInputSchema.parse(r.regime) as RegimeInput, at: r.at })),
    fallbackRegime,
  );
  const accounts = await sql<{ id: string; kind: "personal" | "business"; country: string; created_at: Date }[]>`
    select id, kind, country, created_at from accounts where id = any(${uuidArray(accountIds)}::uuid[])`;
  const events = await sql<EventRow[]>`
    select account_id, kind, policy_version, share_with_facebook, business_account_id, at
    from consent_events where account_id = any(${uuidArray(accountIds)}::uuid[]) order by id`;
  const [clock] = await sql<{ sim_ms: string; real_ms: string }[]>`select sim_ms, real_ms from simulation_clock where id = 1`;
  const now = clock ? new Date(Number(clock.sim_ms) + (Date.now() - Number(clock.real_ms))) : new Date();
  const byAccount = new Map<string, EventRow[]>();
  for (const event of events) byAccount.set(event.account_id, [...(byAccount.get(event.account_id) ?? []), event]);
  const states = new Map<string, ConsentState>();
  for (const account of accounts) {
    let state = newAccount({ registeredAt: account.created_at, country: account.country as CountryCode, kind: account.kind }, HISTORICAL_TIMELINE);
    for (const event of byAccount.get(account.id) ?? []) {
      const choice = recordedChoice({
        kind: event.kind,
        policyVersion: event.policy_version,
        shareWithFacebook: event.share_with_facebook,
        businessAccountId: event.business_account_id,
      });
      const result = applyChoice(state, choice, event.at, { regime: regimes.at(event.at), timeline: HISTORICAL_TIMELINE });
      if (result.ok) state = result.state;
    }
    states.set(account.id, state);
  }
  return { states, now, regime: regimes.at(now) };
}

const sameSet = (a: readonly string[] = [], b: readonly string[] = []) =>
  a.length === b.length && [...a].sort().join(",") === [...b].sort().join(",");

export async function consentFigures(
  messenger: Sql,
  facebook: Sql,
  accountIds: string[],
  regime: RegimeInput,
): Promise<ConsentFigures> {
  if (accountIds.length === 0) return { accounts: 0, disagreements: 0, examples: [] };
  const { states, now, regime: regimeNow } = await newestConsent(messenger, accountIds, regime);
  const rows = await facebook<{ whatsapp_account_id: string; field: string; purposes: string[] }[]>`
    select whatsapp_account_id, field, purposes from shared_data where whatsapp_account_id = any(${uuidArray(accountIds)}::uuid[])`;
  const held = new Map<string, Record<string, string[]>>();
  for (const row of rows) held.set(row.whatsapp_account_id, { ...held.get(row.whatsapp_account_id), [row.field]: row.purposes });
  const examples: ConsentFigures["examples"] = [];
  let disagreements = 0;
  for (const accountId of accountIds) {
    const known = states.get(accountId);
    const expected: Record<string, string[]> = {};
    if (known) {
      for (const [field, purposes] of Object.entries(shareableFields(known, now, regimeNow))) {
        if (purposes && purposes.length > 0) expected[field] = [...purposes];
      }
    }
    const holds = held.get(accountId) ?? {};
    // Every field Facebook holds must carry exactly the purposes allowed now (more is a leak,
    // other purposes a change that never arrived); the phone number, a fact every account has,
    // must be held exactly when it is allowed. Other facts (usage) exist only for some accounts.
    const fields = new Set([...Object.keys(holds), ...(expected.phoneNumber ? ["phoneNumber"] : [])]);
    const agrees = [...fields].every((field) => sameSet(expected[field], holds[field]));
    if (!agrees) {
      disagreements += 1;
      if (examples.length < 3) examples.push({ accountId, expected, held: holds });
    }
  }
  return { accounts: accountIds.length, disagreements, examples };
}
