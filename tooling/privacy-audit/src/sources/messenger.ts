/**
 * What the audit reads from the messenger's database: account facts, the consent
 * and regime histories, the simulated time, and (for check 1) message ids, who
 * wrote to whom, and a bounded sample of queued ciphertexts. Read-only.
 */
import type postgres from "postgres";
import type { AccountFacts, ConsentEventRow } from "../consent-history";
import { CiphertextIndex, MessageIdIndex, PairIndex, WINDOW_BYTES } from "../fingerprints";

const BATCH = 10_000;

/** Every account's facts, by id. */
export async function loadAccounts(sql: postgres.Sql): Promise<Map<string, AccountFacts>> {
  const accounts = new Map<string, AccountFacts>();
  await sql<{ id: string; kind: AccountFacts["kind"]; country: string; created_at: Date }[]>`
    select id, kind, country, created_at from accounts`.cursor(BATCH, (rows) => {
    for (const r of rows) accounts.set(r.id, { id: r.id, kind: r.kind, country: r.country, createdAt: r.created_at });
  });
  return accounts;
}

/** The whole consent history, loaded once and grouped by account, each in id (= recording) order. */
export async function loadConsentEvents(sql: postgres.Sql): Promise<{ byAccount: Map<string, ConsentEventRow[]>; count: number }> {
  const byAccount = new Map<string, ConsentEventRow[]>();
  let count = 0;
  await sql<
    {
      account_id: string;
      kind: ConsentEventRow["kind"];
      policy_version: string;
      share_with_facebook: boolean | null;
      business_account_id: string | null;
      at: Date;
    }[]
  >`
    select account_id, kind, policy_version, share_with_facebook, business_account_id, at
    from consent_events order by account_id, id`.cursor(BATCH, (rows) => {
    for (const r of rows) {
      count += 1;
      const event: ConsentEventRow = {
        kind: r.kind,
        policyVersion: r.policy_version,
        shareWithFacebook: r.share_with_facebook,
        businessAccountId: r.business_account_id,
        at: r.at,
      };
      const list = byAccount.get(r.account_id);
      if (list) list.push(event);
      else byAccount.set(r.account_id, [event]);
    }
  });
  return { byAccount, count };
}

/** `regime_changes` in id order. */
export async function loadRegimeChanges(sql: postgres.Sql): Promise<{ regime: unknown; at: Date }[]> {
  return sql<{ regime: unknown; at: Date }[]>`select regime, at from regime_changes order by id`;
}

/** The messenger's simulated time now (its stored simulation clock runs at real speed), or null when it has none. */
export async function loadSimulatedNow(sql: postgres.Sql): Promise<Date | null> {
  const [row] = await sql<{ sim_ms: string; real_ms: string }[]>`select sim_ms, real_ms from simulation_clock where id = 1`;
  return row ? new Date(Number(row.sim_ms) + (Date.now() - Number(row.real_ms))) : null;
}

/** The latest simulated instant recorded anywhere in the messenger (fallback for a missing clock). */
export async function loadLatestRecordedTime(sql: postgres.Sql): Promise<Date | null> {
  const [row] = await sql<{ latest: Date | null }[]>`
    select greatest((select max(at) from consent_events), (select max(at) from regime_changes),
                    (select max(created_at) from accounts)) as latest`;
  return row?.latest ?? null;
}

export interface MessageData {
  messageIds: MessageIdIndex;
  pairs: PairIndex;
  /** Rows read from envelopes and accepted_messages. */
  rows: number;
  /** True when `maxRows` stopped the load early. */
  truncated: boolean;
}

/**
 * Message ids and sender/recipient pairs from the queue (`envelopes`) and the
 * resend guard (`accepted_messages`), newest first, at most `maxRows` rows of each
 * table of each database (with a shard map, every database holds its recipients' queue).
 */
export async function loadMessageData(databases: postgres.Sql[], maxRows: number): Promise<MessageData> {
  const messageIds = new MessageIdIndex();
  const pairs = new PairIndex();
  let rows = 0;
  let truncated = false;
  const take = (batch: { message_id: string; sender: string; recipient: string }[]) => {
    for (const r of batch) {
      messageIds.add(r.message_id);
      pairs.add(r.sender, r.recipient);
    }
    rows += batch.length;
  };
  for (const sql of databases) {
    for (const table of ["envelopes", "accepted_messages"] as const) {
      const [{ n } = { n: 0 }] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(table)}`;
      if (n > maxRows) truncated = true;
      const order = table === "envelopes" ? sql`id desc` : sql`accepted_at desc`;
      await sql<{ message_id: string; sender: string; recipient: string }[]>`
        select message_id, sender_account_id as sender, recipient_account_id as recipient
        from ${sql(table)} order by ${order} limit ${maxRows}`.cursor(BATCH, take);
    }
  }
  return { messageIds, pairs, rows, truncated };
}

/** A random sample of at most `size` queued ciphertexts long enough to fingerprint, from each database. */
export async function loadCiphertextSample(
  databases: postgres.Sql[],
  size: number,
): Promise<{ index: CiphertextIndex; queued: number; eligible: number }> {
  const index = new CiphertextIndex();
  let queued = 0;
  let eligible = 0;
  for (const [i, sql] of databases.entries()) {
    const [counts] = await sql<{ queued: number; eligible: number }[]>`
      select count(*)::int as queued, count(*) filter (where octet_length(content) >= ${WINDOW_BYTES})::int as eligible
      from envelopes`;
    queued += counts?.queued ?? 0;
    eligible += counts?.eligible ?? 0;
    const sample = await sql<{ id: string; content: Buffer }[]>`
      select id::text as id, content from envelopes where octet_length(content) >= ${WINDOW_BYTES}
      order by random() limit ${size}`;
    // Each database numbers its own envelopes: the first database's ids as they are, the others' prefixed.
    for (const row of sample) index.add(i === 0 ? row.id : `${i + 1}:${row.id}`, row.content);
  }
  return { index, queued, eligible };
}

/** Digits (with country code, no '+') of every phone number the messenger holds. */
export async function loadPhoneDigits(sql: postgres.Sql, into: Set<string>): Promise<void> {
  await sql<{ phone_number: string }[]>`select phone_number from accounts`.cursor(BATCH, (rows) => {
    for (const r of rows) into.add(r.phone_number.replace(/\D/g, ""));
  });
}

/**
 * Accounts with share events not yet shipped to Facebook: `recent` were written
 * less than `graceMs` ago (a withdrawal may still be on its way), `stuck` longer.
 */
export async function loadUnshippedAccounts(sql: postgres.Sql, graceMs: number): Promise<{ recent: Set<string>; stuck: number }> {
  const rows = await sql<{ account_id: string; recent: boolean }[]>`
    select account_id, bool_or(created_at > now() - make_interval(secs => ${graceMs / 1000})) as recent
    from share_outbox where shipped_at is null group by account_id`;
  return { recent: new Set(rows.filter((r) => r.recent).map((r) => r.account_id)), stuck: rows.filter((r) => !r.recent).length };
}

/** An account's newest share event (by its per-account sequence). */
export interface NewestSnapshot {
  accountId: string;
  sequence: number;
  shipped: boolean;
  /** field -> purposes the event carries. */
  fields: Record<string, string[]>;
}

/**
 * Each account's newest share event, in pages of `pageSize` accounts (keyset on
 * the account id, served by the outbox's (account_id, sequence) index).
 */
export async function* pageNewestSnapshots(sql: postgres.Sql, pageSize = 2_000): AsyncGenerator<NewestSnapshot[]> {
  let after = "00000000-0000-0000-0000-000000000000";
  for (;;) {
    const rows = await sql<{ account_id: string; sequence: string; shipped: boolean; payload: { fields: Record<string, { purposes: string[] }> } }[]>`
      select distinct on (account_id) account_id, sequence::text as sequence, shipped_at is not null as shipped, payload
      from share_outbox where account_id > ${after}
      -- the column, not the text alias of the same name: "9" sorts after "14"
      order by account_id, share_outbox.sequence desc limit ${pageSize}`;
    if (rows.length === 0) return;
    after = rows[rows.length - 1]!.account_id;
    yield rows.map((r) => ({
      accountId: r.account_id,
      sequence: Number(r.sequence),
      shipped: r.shipped,
      fields: Object.fromEntries(Object.entries(r.payload.fields ?? {}).map(([field, v]) => [field, [...v.purposes].sort()])),
    }));
  }
}
