/**
 * What WhatsApp may tell Facebook about one account right now: the account's
 * facts, for the fields `shareableFields` allows. A field no purpose allows is not
 * in the snapshot at all.
 */
import type { ShareableFields, SharedFields } from "@handshake/consent";
import type postgres from "postgres";

export interface ShareFacts {
  phoneNumber: string;
  country: string;
  registeredAt: Date;
  os: string;
  osVersion: string;
  appVersion: string;
  deviceModel: string;
  usage: { messagesTotal: number; activeDays: number; day: string; messagesToday: number; lastSeenAt: Date } | null;
}

type Sql = postgres.Sql | postgres.TransactionSql;

export async function loadShareFacts(sql: Sql, accountIds: string[]): Promise<Map<string, ShareFacts>> {
  if (accountIds.length === 0) return new Map();
  const rows = await sql<
    {
      id: string;
      phone_number: string;
      country: string;
      created_at: Date;
      os: string;
      os_version: string;
      app_version: string;
      model: string;
      messages_total: string | null;
      active_days: number | null;
      day: string | null;
      messages_today: number | null;
      last_seen_at: Date | null;
    }[]
  >`
    select a.id, a.phone_number, a.country, a.created_at, d.os, d.os_version, d.app_version, d.model,
           u.messages_total, u.active_days, u.day::text as day, u.messages_today, u.last_seen_at
    from accounts a
    join devices d on d.account_id = a.id and d.device_id = 1
    left join usage_counters u on u.account_id = a.id
    where a.id = any(${sql.array(accountIds)}::uuid[])`;
  return new Map(
    rows.map((r) => [
      r.id,
      {
        phoneNumber: r.phone_number,
        country: r.country,
        registeredAt: r.created_at,
        os: r.os,
        osVersion: r.os_version,
        appVersion: r.app_version,
        deviceModel: r.model,
        usage:
          r.day === null
            ? null
            : {
                messagesTotal: Number(r.messages_total ?? 0),
                activeDays: r.active_days ?? 0,
                day: r.day,
                messagesToday: r.messages_today ?? 0,
                lastSeenAt: r.last_seen_at ?? r.created_at,
              },
      },
    ]),
  );
}

/** The account's values for the fields `allowed` (from `shareableFields`), with their purposes. */
export function snapshotFields(facts: ShareFacts, allowed: ShareableFields): SharedFields {
  const fields: SharedFields = {};
  const put = <K extends keyof SharedFields>(field: K, value: NonNullable<SharedFields[K]>["value"]) => {
    const purposes = allowed[field];
    if (purposes && purposes.length > 0) fields[field] = { value, purposes } as SharedFields[K];
  };
  put("phoneNumber", facts.phoneNumber);
  put("registeredAt", facts.registeredAt.toISOString());
  put("country", facts.country);
  put("os", facts.os);
  put("osVersion", facts.osVersion);
  put("appVersion", facts.appVersion);
  put("deviceModel", facts.deviceModel);
  if (facts.usage) {
    put("lastSeen", facts.usage.lastSeenAt.toISOString());
    put("messagesSentCount", { day: facts.usage.day, today: facts.usage.messagesToday, total: facts.usage.messagesTotal });
    put("activeDaysCount", facts.usage.activeDays);
  }
  return fields;
}
