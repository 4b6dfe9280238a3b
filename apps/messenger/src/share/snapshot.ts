/**
 * What WhatsApp may tell Facebook about one account right now: the account's
 * facts, for the fields `shareableFields` allows. A field no purpose allows is not
 * in the snapshot at all.
 */
import type { ShareableFields, SharedFields } from "@handshake/consent";
import { drizzleOn } from "@handshake/db/client";
import { accounts, devices, usageCounters } from "@handshake/db/messenger-schema";
import { and, eq, sql as q } from "drizzle-orm";
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
  const rows = await drizzleOn(sql)
    .select({
      id: accounts.id,
      phoneNumber: accounts.phoneNumber,
      country: accounts.country,
      createdAt: accounts.createdAt,
      os: devices.os,
      osVersion: devices.osVersion,
      appVersion: devices.appVersion,
      model: devices.model,
      messagesTotal: usageCounters.messagesTotal,
      activeDays: usageCounters.activeDays,
      day: usageCounters.day,
      messagesToday: usageCounters.messagesToday,
      lastSeenAt: usageCounters.lastSeenAt,
    })
    .from(accounts)
    .innerJoin(devices, and(eq(devices.accountId, accounts.id), eq(devices.deviceId, 1)))
    .leftJoin(usageCounters, eq(usageCounters.accountId, accounts.id))
    .where(q`${accounts.id} = any(${q.param(accountIds)}::uuid[])`);
  return new Map(
    rows.map((r) => [
      r.id,
      {
        phoneNumber: r.phoneNumber,
        country: r.country,
        registeredAt: r.createdAt,
        os: r.os,
        osVersion: r.osVersion,
        appVersion: r.appVersion,
        deviceModel: r.model,
        usage:
          r.day === null
            ? null
            : {
                messagesTotal: r.messagesTotal ?? 0,
                activeDays: r.activeDays ?? 0,
                day: r.day,
                messagesToday: r.messagesToday ?? 0,
                lastSeenAt: r.lastSeenAt ?? r.createdAt,
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
