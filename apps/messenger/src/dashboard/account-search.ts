/** Account search for the dashboard: by phone or id prefix, country and share choice. */
import { SHARING_POLICY_VERSION } from "@handshake/consent";
import type postgres from "postgres";
import { z } from "zod";
import { countrySchema, iso } from "./schemas";

export const findAccountsInput = z.object({
  query: z.string().trim().max(64).optional(),
  country: countrySchema.optional(),
  /** true: unticked the box or opted out in Settings; false: everyone else. */
  optedOut: z.boolean().optional(),
  /** true: accepted the 2016 terms; false: has not. */
  accepted: z.boolean().optional(),
  limit: z.number().int().min(1).max(200).default(25),
});

export const findAccountsOutput = z.object({
  accounts: z.array(
    z.object({
      id: z.string(),
      phoneNumber: z.string(),
      country: z.string(),
      shard: z.number(),
      kind: z.string(),
      createdAt: iso,
      accepted: z.boolean(),
      shareWithFacebook: z.boolean().nullable(),
      method: z.string().nullable(),
      optedOut: z.boolean(),
    }),
  ),
});

export type FoundAccounts = z.infer<typeof findAccountsOutput>;

/** Matching accounts in id order, at most `input.limit`; each with its share choice as recorded. */
export async function findAccounts(sql: postgres.Sql, input: z.infer<typeof findAccountsInput>): Promise<FoundAccounts> {
  const q = input.query ?? "";
  const digits = q.replace(/[^0-9]/g, "");
  const byQuery =
    q === ""
      ? sql``
      : /^[0-9a-f-]+$/i.test(q) && /[a-f-]/i.test(q)
        ? sql`and a.id::text like ${`${q.toLowerCase()}%`}`
        : digits
          ? sql`and (a.phone_number like ${`+${digits}%`} or a.id::text like ${`${q.toLowerCase()}%`})`
          : sql`and false`;
  const rows = await sql<
    {
      id: string;
      phone_number: string;
      country: string;
      shard: number;
      kind: string;
      created_at: Date;
      accepted: boolean;
      share_with_facebook: boolean | null;
      method: string | null;
      opted_out: boolean;
    }[]
  >`
    select * from (
      select a.id, a.phone_number, a.country, a.shard, a.kind, a.created_at,
             acc.account_id is not null as accepted,
             case when opt.account_id is not null then false else acc.share_with_facebook end as share_with_facebook,
             case when opt.account_id is not null then 'settings-within-window' else acc.method end as method,
             (opt.account_id is not null or coalesce(acc.share_with_facebook = false, false)) as opted_out
      from accounts a
      left join lateral (
        select account_id, share_with_facebook, method from consent_events c
        where c.account_id = a.id and c.kind = 'terms-accepted' and c.policy_version = ${SHARING_POLICY_VERSION}
        order by id limit 1) acc on true
      left join lateral (
        select account_id from consent_events c where c.account_id = a.id and c.kind = 'share-opted-out' limit 1) opt on true
      where true ${byQuery} ${input.country ? sql`and a.country = ${input.country}` : sql``}
    ) x
    where true
      ${input.optedOut === undefined ? sql`` : sql`and x.opted_out = ${input.optedOut}`}
      ${input.accepted === undefined ? sql`` : sql`and x.accepted = ${input.accepted}`}
    order by x.id
    limit ${input.limit}`;
  return {
    accounts: rows.map((r) => ({
      id: r.id,
      phoneNumber: r.phone_number,
      country: r.country,
      shard: r.shard,
      kind: r.kind,
      createdAt: r.created_at.toISOString(),
      accepted: r.accepted,
      shareWithFacebook: r.share_with_facebook,
      method: r.method,
      optedOut: r.opted_out,
    })),
  };
}
