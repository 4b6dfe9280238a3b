/**
 * Account linking: a WhatsApp number shared for `product` links the account to
 * the Facebook profile holding that number. When the number may no longer serve
 * `product`, the link is removed; when it may no longer serve `ads`, so are the
 * audience memberships that came through WhatsApp.
 */
import type postgres from "postgres";
import type { AppliedAccount } from "./ingest";
import { recordUses, type Use } from "./audit";

export async function relink(tx: postgres.TransactionSql, applied: AppliedAccount[], at: Date): Promise<{ linked: number; unlinked: number }> {
  const linkable = applied.filter((a) => a.fields.phoneNumber?.purposes.includes("product"));
  const unlinkable = applied.filter((a) => !a.fields.phoneNumber?.purposes.includes("product")).map((a) => a.whatsappAccountId);
  const noAds = applied.filter((a) => !a.fields.phoneNumber?.purposes.includes("ads")).map((a) => a.whatsappAccountId);

  let unlinked = 0;
  if (unlinkable.length > 0) {
    unlinked = (await tx`delete from links where whatsapp_account_id = any(${tx.array(unlinkable)}::uuid[]) returning 1`).length;
  }
  if (noAds.length > 0) {
    await tx`delete from audience_members where whatsapp_account_id = any(${tx.array(noAds)}::uuid[])`;
  }
  if (linkable.length === 0) return { linked: 0, unlinked };

  const phones = linkable.map((a) => a.fields.phoneNumber!.value);
  const rows = await tx<{ whatsapp_account_id: string; profile_id: number }[]>`
    insert into links (whatsapp_account_id, profile_id, linked_at)
    select w.account, p.id, ${at}
    from unnest(${tx.array(linkable.map((a) => a.whatsappAccountId))}::uuid[], ${tx.array(phones)}::text[]) as w(account, phone)
    join lateral (select id from profiles where phone_number = w.phone order by id limit 1) p on true
    on conflict (whatsapp_account_id) do update set profile_id = excluded.profile_id, linked_by = 'phone'
      where links.profile_id <> excluded.profile_id
    returning whatsapp_account_id, profile_id`;
  const uses: Use[] = rows.map((r) => ({ whatsappAccountId: r.whatsapp_account_id, datum: "phoneNumber", purpose: "product", feature: "link", at }));
  await recordUses(tx, uses);
  return { linked: rows.length, unlinked };
}
