/**
 * Linking the profiles Facebook could not link on its own: those holding no number
 * or a stale one. The verified number WhatsApp shared (for `product`) is looked up
 * in the address books Facebook users uploaded; the name the uploaders saved it
 * under, in the country WhatsApp shared (for `product`), names the profile — when
 * exactly one profile that nothing else claims answers to it. Why this key, and how
 * often it is right, is in the package README ("Linking through the address books").
 *
 * Also: what a withdrawal costs Facebook (links and WhatsApp-derived audience
 * memberships removed), counted before `relink` removes them.
 */
import type postgres from "postgres";
import type { AppliedAccount } from "./ingest";
import { recordUses, type Use } from "./audit";

const allows = (a: AppliedAccount, field: "phoneNumber" | "country", purpose: string) =>
  a.fields[field]?.purposes.includes(purpose as never) ?? false;

export interface NameLinkOutcome {
  linked: number;
  /** Accounts whose number some uploader saved, but under a name no single unclaimed profile answers to (or a tie of names). */
  ambiguous: number;
}

/**
 * Links each applied account that may serve `product`, is not linked yet, and whose
 * number is in someone's address book under a name, to the one profile of that name
 * in the account's country that holds no number WhatsApp verified and is not linked.
 * Runs after `relink` (which links by the profile's own number) in the same transaction.
 */
export async function linkByName(tx: postgres.TransactionSql, applied: AppliedAccount[], at: Date): Promise<NameLinkOutcome> {
  const wanted = applied.filter((a) => allows(a, "phoneNumber", "product") && allows(a, "country", "product"));
  if (wanted.length === 0) return { linked: 0, ambiguous: 0 };
  const accounts = wanted.map((a) => a.whatsappAccountId);
  const phones = wanted.map((a) => a.fields.phoneNumber!.value);
  const countries = wanted.map((a) => a.fields.country!.value);

  // The name each unlinked account's number was saved under most often; a tie names nobody.
  const labels = await tx<{ account: string; country: string; name: string | null }[]>`
    with w(account, phone, country) as (
      select * from unnest(${tx.array(accounts)}::uuid[], ${tx.array(phones)}::text[], ${tx.array(countries)}::text[])
    ),
    todo as (select * from w where not exists (select 1 from links l where l.whatsapp_account_id = w.account)),
    counted as (
      select t.account, t.country, a.contact_name as name, count(distinct a.profile_id) as uploaders
      from todo t join address_book_entries a on a.phone_number = t.phone and a.contact_name is not null
      group by t.account, t.country, a.contact_name
    ),
    ranked as (
      select *, rank() over (partition by account order by uploaders desc) as r,
                count(*) over (partition by account, uploaders) as same
      from counted
    )
    select distinct on (account) account, country, case when same = 1 then name end as name
    from ranked where r = 1 order by account`;
  const named = labels.filter((l): l is { account: string; country: string; name: string } => l.name !== null);
  let ambiguous = labels.length - named.length;
  if (named.length === 0) return { linked: 0, ambiguous };

  // Profiles answering to each (country, name): not linked, and holding no number, or
  // one no WhatsApp account verified for `product` (so, as far as Facebook can tell, stale).
  const candidates = await tx<{ country: string; name: string; id: number }[]>`
    select k.country, k.name, p.id
    from (select distinct * from unnest(${tx.array(named.map((n) => n.country))}::text[], ${tx.array(named.map((n) => n.name))}::text[])) as k(country, name)
    join profiles p on p.country = k.country and p.name = k.name
    where not exists (select 1 from links l where l.profile_id = p.id)
      and (p.phone_number is null or not exists (
        select 1 from shared_data sd
        where sd.field = 'phoneNumber' and (sd.value #>> '{}') = p.phone_number and 'product' = any(sd.purposes)))`;
  const byKey = new Map<string, number[]>();
  for (const c of candidates) {
    const key = `${c.country}\u0000${c.name}`;
    byKey.set(key, [...(byKey.get(key) ?? []), Number(c.id)]);
  }
  const picks = new Map<string, number>();
  const pickedBy = new Map<number, number>();
  for (const n of named) {
    const ids = byKey.get(`${n.country}\u0000${n.name}`) ?? [];
    if (ids.length !== 1) continue;
    picks.set(n.account, ids[0]!);
    pickedBy.set(ids[0]!, (pickedBy.get(ids[0]!) ?? 0) + 1);
  }
  // Two accounts of this batch naming one profile: neither is linked.
  for (const [account, id] of picks) if (pickedBy.get(id)! > 1) picks.delete(account);
  ambiguous += named.length - picks.size;
  if (picks.size === 0) return { linked: 0, ambiguous };

  // Lock the chosen profiles (in id order), then link only those still unclaimed: a
  // concurrent ingest that linked one of them first has committed by the time we hold it.
  const ids = [...new Set(picks.values())].sort((a, b) => a - b);
  await tx`select id from profiles where id = any(${tx.array(ids)}::int8[]) order by id for update`;
  const rows = await tx<{ whatsapp_account_id: string }[]>`
    insert into links (whatsapp_account_id, profile_id, linked_at, linked_by)
    select w.account, w.profile, ${at}, 'name'
    from unnest(${tx.array([...picks.keys()])}::uuid[], ${tx.array([...picks.values()])}::int8[]) as w(account, profile)
    where not exists (select 1 from links l where l.profile_id = w.profile)
    on conflict (whatsapp_account_id) do nothing
    returning whatsapp_account_id`;
  ambiguous += picks.size - rows.length;
  const uses: Use[] = rows.flatMap((r) => [
    { whatsappAccountId: r.whatsapp_account_id, datum: "phoneNumber", purpose: "product", feature: "link" as const, at },
    { whatsappAccountId: r.whatsapp_account_id, datum: "country", purpose: "product", feature: "link" as const, at },
  ]);
  await recordUses(tx, uses);
  return { linked: rows.length, ambiguous };
}

/**
 * Counts what the applied snapshots are about to take away (run before `relink`):
 * links of accounts whose number no longer serves `product`, and audience memberships
 * that came through WhatsApp for accounts whose number no longer serves `ads`. Counts
 * per simulated day, profile country and how the link was made; no account or profile id.
 */
export async function recordWithdrawalLosses(tx: postgres.TransactionSql, applied: AppliedAccount[], at: Date): Promise<void> {
  const noProduct = applied.filter((a) => !allows(a, "phoneNumber", "product")).map((a) => a.whatsappAccountId);
  const noAds = applied.filter((a) => !allows(a, "phoneNumber", "ads")).map((a) => a.whatsappAccountId);
  if (noProduct.length === 0 && noAds.length === 0) return;
  const day = at.toISOString().slice(0, 10);
  await tx`
    with lost_links as (
      select p.country, l.linked_by, count(*)::int as n
      from links l join profiles p on p.id = l.profile_id
      where l.whatsapp_account_id = any(${tx.array(noProduct)}::uuid[])
      group by p.country, l.linked_by
    ),
    lost_members as (
      select p.country, coalesce(l.linked_by, 'phone') as linked_by, count(*)::int as n
      from audience_members m join profiles p on p.id = m.profile_id
      left join links l on l.whatsapp_account_id = m.whatsapp_account_id
      where m.via_whatsapp and m.whatsapp_account_id = any(${tx.array(noAds)}::uuid[])
      group by p.country, coalesce(l.linked_by, 'phone')
    ),
    together as (
      select coalesce(a.country, b.country) as country, coalesce(a.linked_by, b.linked_by) as linked_by,
             coalesce(a.n, 0) as links, coalesce(b.n, 0) as members
      from lost_links a full join lost_members b on a.country = b.country and a.linked_by = b.linked_by
    )
    insert into withdrawal_losses as w (day, country, linked_by, links, audience_memberships)
    select ${day}::date, country, linked_by, links, members from together
    order by country, linked_by
    on conflict (day, country, linked_by) do update
      set links = w.links + excluded.links, audience_memberships = w.audience_memberships + excluded.audience_memberships`;
}
