/**
 * What the audit reads from the Facebook side's database, streamed in batches
 * with cursors so a large database is never held in memory. Read-only.
 */
import type postgres from "postgres";

const BATCH = 5_000;

export interface AuditRow {
  id: string;
  whatsappAccountId: string;
  datum: string;
  purpose: string;
  feature: string;
  at: Date;
}

export interface SharedRow {
  whatsappAccountId: string;
  field: string;
  purposes: string[];
  sharedAt: Date;
}

export interface LinkRow {
  whatsappAccountId: string;
  profileId: string;
  linkedAt: Date;
}

export interface MembershipRow {
  audienceId: string;
  profileId: string;
  whatsappAccountId: string;
}

export interface ApiLogRow {
  id: string;
  path: string;
  response: unknown;
}

/** Reacts to Facebook rows that concern WhatsApp accounts; a check implements what it needs. */
export interface RowVisitor {
  auditRow?(row: AuditRow): void;
  sharedRow?(row: SharedRow): void;
  link?(row: LinkRow): void;
  membership?(row: MembershipRow): void;
}

type Progress = (done: number) => void;

/** Streams the rows of Facebook's WhatsApp-derived tables to every visitor. */
export async function visitAccountRows(sql: postgres.Sql, visitors: RowVisitor[], progress: Progress): Promise<number> {
  let done = 0;
  const step = (n: number) => {
    done += n;
    progress(done);
  };
  await sql<{ id: string; whatsapp_account_id: string; datum: string; purpose: string; feature: string; at: Date }[]>`
    select id::text as id, whatsapp_account_id, datum, purpose, feature, at from audit_log order by id`.cursor(BATCH, (rows) => {
    for (const r of rows) {
      const row: AuditRow = { id: r.id, whatsappAccountId: r.whatsapp_account_id, datum: r.datum, purpose: r.purpose, feature: r.feature, at: r.at };
      for (const v of visitors) v.auditRow?.(row);
    }
    step(rows.length);
  });
  await sql<{ whatsapp_account_id: string; field: string; purposes: string[]; shared_at: Date }[]>`
    select whatsapp_account_id, field, purposes, shared_at from shared_data`.cursor(BATCH, (rows) => {
    for (const r of rows) {
      const row: SharedRow = { whatsappAccountId: r.whatsapp_account_id, field: r.field, purposes: r.purposes, sharedAt: r.shared_at };
      for (const v of visitors) v.sharedRow?.(row);
    }
    step(rows.length);
  });
  await sql<{ whatsapp_account_id: string; profile_id: string; linked_at: Date }[]>`
    select whatsapp_account_id, profile_id::text as profile_id, linked_at from links`.cursor(BATCH, (rows) => {
    for (const r of rows) {
      const row: LinkRow = { whatsappAccountId: r.whatsapp_account_id, profileId: r.profile_id, linkedAt: r.linked_at };
      for (const v of visitors) v.link?.(row);
    }
    step(rows.length);
  });
  await sql<{ audience_id: string; profile_id: string; whatsapp_account_id: string }[]>`
    select audience_id, profile_id::text as profile_id, whatsapp_account_id
    from audience_members where whatsapp_account_id is not null`.cursor(BATCH, (rows) => {
    for (const r of rows) {
      const row: MembershipRow = { audienceId: r.audience_id, profileId: r.profile_id, whatsappAccountId: r.whatsapp_account_id };
      for (const v of visitors) v.membership?.(row);
    }
    step(rows.length);
  });
  return done;
}

/** Rows `visitAccountRows` will stream (for progress). */
export async function countAccountRows(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select ((select count(*) from audit_log) + (select count(*) from shared_data) + (select count(*) from links)
          + (select count(*) from audience_members where whatsapp_account_id is not null))::int as n`;
  return row?.n ?? 0;
}

/** Facebook's own tables (the `public` schema), with their row counts. */
export async function listTables(sql: postgres.Sql): Promise<{ table: string; rows: number }[]> {
  const tables = await sql<{ table_name: string }[]>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`;
  const out: { table: string; rows: number }[] = [];
  for (const { table_name } of tables) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(table_name)}`;
    out.push({ table: table_name, rows: row?.n ?? 0 });
  }
  return out;
}

/** Every column of Facebook's tables. */
export async function listColumns(sql: postgres.Sql): Promise<{ table: string; column: string }[]> {
  const rows = await sql<{ table_name: string; column_name: string }[]>`
    select table_name, column_name from information_schema.columns
    where table_schema = 'public' order by table_name, ordinal_position`;
  return rows.map((r) => ({ table: r.table_name, column: r.column_name }));
}

/** Streams a table's rows as JSON text (`row_to_json`; bytea appears as `\x` hex), with a locator for reports. */
export async function streamRowText(
  sql: postgres.Sql,
  table: string,
  onRows: (rows: { locator: string; text: string }[]) => void,
): Promise<void> {
  await sql<{ ctid: string; text: string }[]>`
    select t.ctid::text as ctid, row_to_json(t)::text as text from ${sql(table)} t`.cursor(BATCH, (rows) => {
    onRows(rows.map((r) => ({ locator: `ctid ${r.ctid}`, text: r.text })));
  });
}

/** Every profile id, and the digits of every phone number Facebook holds (profiles and address books). */
export async function loadFacebookIdentifiers(sql: postgres.Sql, phoneDigits: Set<string>): Promise<Set<number>> {
  const profileIds = new Set<number>();
  await sql<{ id: string; phone_number: string | null }[]>`select id::text as id, phone_number from profiles`.cursor(BATCH, (rows) => {
    for (const r of rows) {
      profileIds.add(Number(r.id));
      if (r.phone_number) phoneDigits.add(r.phone_number.replace(/\D/g, ""));
    }
  });
  await sql<{ phone_number: string }[]>`select distinct phone_number from address_book_entries`.cursor(BATCH, (rows) => {
    for (const r of rows) phoneDigits.add(r.phone_number.replace(/\D/g, ""));
  });
  return profileIds;
}

/** Streams `advertiser_api_log` in id order. */
export async function streamApiLog(sql: postgres.Sql, onRows: (rows: ApiLogRow[]) => void): Promise<number> {
  let n = 0;
  await sql<{ id: string; path: string; response: unknown }[]>`
    select id::text as id, path, response from advertiser_api_log order by id`.cursor(BATCH, (rows) => {
    n += rows.length;
    onRows(rows);
  });
  return n;
}

/** What Facebook holds about some accounts: field -> purposes, and the sequence its ingest applied last. */
export async function loadHeldFor(
  sql: postgres.Sql,
  accountIds: string[],
): Promise<Map<string, { fields: Record<string, string[]>; watermark: number | null }>> {
  const out = new Map<string, { fields: Record<string, string[]>; watermark: number | null }>();
  if (accountIds.length === 0) return out;
  const entry = (id: string) => {
    let held = out.get(id);
    if (!held) out.set(id, (held = { fields: {}, watermark: null }));
    return held;
  };
  const rows = await sql<{ whatsapp_account_id: string; field: string; purposes: string[] }[]>`
    select whatsapp_account_id, field, purposes from shared_data where whatsapp_account_id = any(${sql.array(accountIds)}::uuid[])`;
  for (const r of rows) entry(r.whatsapp_account_id).fields[r.field] = [...r.purposes].sort();
  const marks = await sql<{ whatsapp_account_id: string; sequence: string }[]>`
    select whatsapp_account_id, sequence::text as sequence from ingest_watermarks where whatsapp_account_id = any(${sql.array(accountIds)}::uuid[])`;
  for (const m of marks) entry(m.whatsapp_account_id).watermark = Number(m.sequence);
  return out;
}
