/**
 * Advertisers, Custom Audiences, their matched members and ad impressions.
 *
 * Matching runs in SQL: each profile's own number and each WhatsApp number shared
 * for `ads` is hashed there (SHA-256 of the E.164 digits without '+') and joined
 * with the uploaded hashes, so neither list ever comes into this process.
 * Everything here is internal; what an advertiser may see is decided in
 * router/audiences.ts.
 */
import type postgres from "postgres";
import { recordUses } from "./audit";

type Sql = postgres.Sql | postgres.TransactionSql;

/** Whether a membership may count now: Facebook's own, or a WhatsApp number that may still serve `ads` (alias `m`). */
function membershipAllowed(sql: Sql) {
  return sql`(not m.via_whatsapp or exists (
    select 1 from shared_data sd
    where sd.whatsapp_account_id = m.whatsapp_account_id and sd.field = 'phoneNumber' and 'ads' = any(sd.purposes)))`;
}

export async function createAdvertiser(sql: Sql, name: string, credentialHash: Buffer): Promise<string> {
  const [row] = await sql<{ id: string }[]>`insert into advertisers (name, credential_hash) values (${name}, ${credentialHash}) returning id`;
  return row!.id;
}

export async function createAudience(sql: Sql, advertiserId: string, name: string): Promise<string> {
  const [row] = await sql<{ id: string }[]>`insert into audiences (advertiser_id, name) values (${advertiserId}, ${name}) returning id`;
  return row!.id;
}

export interface AudienceSummary {
  id: string;
  name: string;
  uploadedRows: number;
  createdAt: Date;
  /** Matched members whose data may serve `ads` now. Internal: never shown as is. */
  members: number;
  /** Digest of the distinct uploaded hashes (see audiences/estimate.ts `listDigest`). */
  listDigest: Buffer;
}

/**
 * The advertiser's audiences (all, or the one asked for) with their true member
 * count and list digest. Another advertiser's audience is simply not found.
 */
export async function audienceSummaries(sql: Sql, advertiserId: string, audienceId?: string): Promise<AudienceSummary[]> {
  const rows = await sql<{ id: string; name: string; uploaded_rows: number; created_at: Date; members: number; digest: Buffer }[]>`
    select a.id, a.name, a.uploaded_rows, a.created_at,
           (select count(*)::int from audience_members m where m.audience_id = a.id and ${membershipAllowed(sql)}) as members,
           (select sha256(coalesce(string_agg(h.hash, ''::bytea order by h.hash), ''::bytea))
              from audience_hashes h where h.audience_id = a.id) as digest
    from audiences a
    where a.advertiser_id = ${advertiserId} ${audienceId ? sql`and a.id = ${audienceId}` : sql``}
    order by a.created_at, a.id`;
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    uploadedRows: r.uploaded_rows,
    createdAt: r.created_at,
    members: r.members,
    listDigest: r.digest,
  }));
}

export interface UploadOutcome {
  /** Hashes not already in the list. */
  newHashes: number;
  /** Members after re-matching (internal). */
  members: number;
  /** Memberships that began through a WhatsApp number in this match (each audited). */
  whatsappMatches: number;
}

/**
 * Adds hashes (32-byte SHA-256, lowercase hex) to the advertiser's audience and
 * re-matches it. Returns null when the audience is not this advertiser's.
 * Uploads to one audience are serialised by a row lock on it.
 */
export async function uploadHashes(
  sql: postgres.Sql,
  advertiserId: string,
  audienceId: string,
  hexHashes: string[],
  at: Date,
): Promise<UploadOutcome | null> {
  return sql.begin(async (tx) => {
    const [owned] = await tx`select 1 from audiences where id = ${audienceId} and advertiser_id = ${advertiserId} for update`;
    if (!owned) return null;
    const [inserted] = await tx<{ n: number }[]>`
      with fresh as (
        insert into audience_hashes (audience_id, hash)
        select ${audienceId}, decode(h, 'hex') from unnest(${tx.array(hexHashes)}::text[]) as h
        on conflict do nothing
        returning 1)
      select count(*)::int as n from fresh`;
    await tx`update audiences set uploaded_rows = uploaded_rows + ${hexHashes.length} where id = ${audienceId}`;
    const matched = await rematch(tx, audienceId, at);
    return { newHashes: inserted!.n, ...matched };
  });
}

/**
 * Recomputes an audience's members from its whole list: profiles whose own number
 * hashes into it, then (for profiles not matched so) profiles linked to a WhatsApp
 * account whose shared number may serve `ads` now and hashes into it. One member
 * per profile; Facebook's own number wins, so WhatsApp data is used only where
 * it adds a match. A membership that begins through WhatsApp is audited; one
 * kept from an earlier match was audited when it began (and ingest removes it
 * the moment the number may no longer serve `ads`).
 */
export async function rematch(tx: postgres.TransactionSql, audienceId: string, at: Date): Promise<Omit<UploadOutcome, "newHashes">> {
  // A match and an ingest of one account apply one after the other, as two ingests do.
  // Unlocked, a match reading the account's `ads` number while an opt-out's ingest had
  // deleted it (uncommitted) inserted a membership that the ingest's delete of the
  // account's memberships could not see: WhatsApp-derived membership held after the
  // withdrawal. So first the watermark rows of every account whose number may serve
  // `ads` and hashes into the list are share-locked, in account order as ingest takes
  // them; the match below is a later statement, so it sees any ingest that held them
  // as committed, and an ingest arriving now waits and then removes what we insert.
  await tx`
    select w.whatsapp_account_id from ingest_watermarks w
    where w.whatsapp_account_id in (
      select sd.whatsapp_account_id from shared_data sd
      join audience_hashes h on h.audience_id = ${audienceId}
                            and h.hash = sha256(convert_to(substr(sd.value #>> '{}', 2), 'UTF8'))
      where sd.field = 'phoneNumber' and 'ads' = any(sd.purposes))
    order by w.whatsapp_account_id
    for share`;
  // One statement: the delete and the upsert touch disjoint rows (unmatched vs matched profiles).
  const [outcome] = await tx<{ members: number; begun_via_whatsapp: string[] }[]>`
    with candidates as (
      select p.id as profile_id, null::uuid as whatsapp_account_id, false as via_whatsapp
      from profiles p join audience_hashes h on h.audience_id = ${audienceId}
                                            and h.hash = sha256(convert_to(substr(p.phone_number, 2), 'UTF8'))
      where p.phone_number is not null
      union all
      select l.profile_id, l.whatsapp_account_id, true
      from shared_data sd
      join audience_hashes h on h.audience_id = ${audienceId}
                            and h.hash = sha256(convert_to(substr(sd.value #>> '{}', 2), 'UTF8'))
      join links l on l.whatsapp_account_id = sd.whatsapp_account_id
      where sd.field = 'phoneNumber' and 'ads' = any(sd.purposes)
    ),
    matched as (
      select distinct on (profile_id) profile_id, whatsapp_account_id, via_whatsapp
      from candidates order by profile_id, via_whatsapp, whatsapp_account_id
    ),
    gone as (
      delete from audience_members m
      where m.audience_id = ${audienceId} and not exists (select 1 from matched x where x.profile_id = m.profile_id)
    ),
    begun as (
      insert into audience_members (audience_id, profile_id, whatsapp_account_id, via_whatsapp)
      select ${audienceId}, profile_id, whatsapp_account_id, via_whatsapp from matched
      on conflict (audience_id, profile_id) do update
        set whatsapp_account_id = excluded.whatsapp_account_id, via_whatsapp = excluded.via_whatsapp
        where audience_members.via_whatsapp is distinct from excluded.via_whatsapp
           or audience_members.whatsapp_account_id is distinct from excluded.whatsapp_account_id
      returning whatsapp_account_id, via_whatsapp
    )
    select (select count(*)::int from matched) as members,
           coalesce((select array_agg(whatsapp_account_id::text) from begun where via_whatsapp), '{}') as begun_via_whatsapp`;
  const viaWhatsapp = outcome!.begun_via_whatsapp;
  await recordUses(
    tx,
    viaWhatsapp.map((whatsappAccountId) => ({ whatsappAccountId, datum: "phoneNumber", purpose: "ads", feature: "audience-match" as const, at })),
  );
  return { members: outcome!.members, whatsappMatches: viaWhatsapp.length };
}

export interface ServedAd {
  audienceId: string;
  audienceName: string;
  advertiserName: string;
  viaWhatsapp: boolean;
}

/**
 * Serves one ad to a profile from an audience it belongs to, and records the
 * impression. Audiences under `minimum` members are not served: delivery to a
 * tiny audience would tell its advertiser who is in it. A membership that came
 * through WhatsApp is served only if the number may serve `ads` at this moment
 * (the shared datum is locked while the impression is written), and is audited.
 */
export async function serveAd(sql: postgres.Sql, profileId: number, minimum: number, at: Date): Promise<ServedAd | null> {
  return sql.begin(async (tx) => {
    const candidates = await tx<{ audience_id: string; audience_name: string; advertiser_name: string; via_whatsapp: boolean; whatsapp_account_id: string | null }[]>`
      select m.audience_id, a.name as audience_name, adv.name as advertiser_name, m.via_whatsapp, m.whatsapp_account_id
      from audience_members m
      join audiences a on a.id = m.audience_id
      join advertisers adv on adv.id = a.advertiser_id
      where m.profile_id = ${profileId}
        and (select count(*) from audience_members c where c.audience_id = m.audience_id) >= ${minimum}
      order by random()`;
    for (const c of candidates) {
      if (c.via_whatsapp) {
        const [shared] = await tx<{ purposes: string[] }[]>`
          select purposes from shared_data
          where whatsapp_account_id = ${c.whatsapp_account_id} and field = 'phoneNumber'
          for share`;
        if (!shared?.purposes.includes("ads")) continue;
        await recordUses(tx, [{ whatsappAccountId: c.whatsapp_account_id!, datum: "phoneNumber", purpose: "ads", feature: "ad", at }]);
      }
      await tx`insert into ad_impressions (audience_id, profile_id, at) values (${c.audience_id}, ${profileId}, ${at})`;
      return { audienceId: c.audience_id, audienceName: c.audience_name, advertiserName: c.advertiser_name, viaWhatsapp: c.via_whatsapp };
    }
    return null;
  });
}

/** Impressions per audience of one advertiser (counts only). */
export async function impressionsByAudience(sql: Sql, advertiserId: string): Promise<{ audienceId: string; name: string; impressionCount: number }[]> {
  const rows = await sql<{ id: string; name: string; impressions: number }[]>`
    select a.id, a.name, count(i.id)::int as impressions
    from audiences a left join ad_impressions i on i.audience_id = a.id
    where a.advertiser_id = ${advertiserId}
    group by a.id, a.name, a.created_at
    order by a.created_at, a.id`;
  return rows.map((r) => ({ audienceId: r.id, name: r.name, impressionCount: r.impressions }));
}
