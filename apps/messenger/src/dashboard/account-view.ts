/**
 * One account as the messenger holds it, for the dashboard: devices and key counts,
 * envelope metadata and ciphertext sizes (never content), consent history and
 * decisions, and the share events written for it.
 */
import { canChangeShareChoice, canUseService, mayShare, PURPOSES, SHARE_CHOICE_METHODS, type Purpose } from "@handshake/consent";
import { accounts, consentEvents, shareOutbox, usageCounters } from "@handshake/db/messenger-schema";
import { asc, desc, eq } from "drizzle-orm";
import { z } from "zod";
import type { MessengerServices } from "../trpc";
import { iso, regimeOutput } from "./schemas";

const consentEventOutput = z.object({
  kind: z.string(),
  policyVersion: z.string(),
  shareWithFacebook: z.boolean().nullable(),
  method: z.string().nullable(),
  businessAccountId: z.string().nullable(),
  at: iso,
});

const envelopeOutput = z.object({
  id: z.string(),
  direction: z.enum(["in", "out"]),
  peerAccountId: z.string(),
  peerDeviceId: z.number(),
  deviceId: z.number(),
  type: z.number(),
  /** Ciphertext length in bytes; the content itself never leaves the database. */
  bytes: z.number(),
  category: z.string().nullable(),
  serverTimestamp: iso,
});

export const accountOutput = z.object({
  now: iso,
  regime: regimeOutput,
  account: z.object({
    id: z.string(),
    phoneNumber: z.string(),
    country: z.string(),
    shard: z.number(),
    kind: z.string(),
    displayName: z.string().nullable(),
    createdAt: iso,
  }),
  devices: z.array(
    z.object({
      deviceId: z.number(),
      os: z.string(),
      osVersion: z.string(),
      appVersion: z.string(),
      model: z.string(),
      createdAt: iso,
      lastSeenAt: iso.nullable(),
      keys: z.object({ signedPrekeys: z.number(), oneTimePrekeys: z.number(), kyberPrekeys: z.number(), kyberLastResort: z.number() }),
    }),
  ),
  envelopes: z.object({
    queuedFor: z.number(),
    queuedFrom: z.number(),
    bytesQueuedFor: z.number(),
    recent: z.array(envelopeOutput),
  }),
  usage: z.object({ messagesTotal: z.number(), activeDays: z.number(), lastSeenAt: iso }).nullable(),
  consent: z.object({
    history: z.array(consentEventOutput),
    terms: z.object({ version: z.string(), acceptedAt: iso }).nullable(),
    share: z.object({ shareWithFacebook: z.boolean(), method: z.enum(SHARE_CHOICE_METHODS), madeAt: iso, finalAt: iso }).nullable(),
    canUseService: z.boolean(),
    canChangeShareChoice: z.boolean(),
    /** Under the regime in force, now: may this account's data serve each purpose? */
    purposes: z.record(z.enum(PURPOSES), z.boolean()),
  }),
  shareEvents: z.object({
    total: z.number(),
    recent: z.array(
      z.object({
        id: z.number(),
        kind: z.string(),
        occurredAt: iso,
        shippedAt: iso.nullable(),
        /** Field names and the purposes each was sent for (values are on the Facebook side). */
        fields: z.array(z.object({ field: z.string(), purposes: z.array(z.string()) })),
      }),
    ),
  }),
});

export type AccountView = z.infer<typeof accountOutput>;

/** Reads one account's view, or null when there is no such account. */
export async function readAccountView(services: MessengerServices, id: string): Promise<AccountView | null> {
  const { db } = services;
  const [account] = await db
    .select({
      id: accounts.id,
      phoneNumber: accounts.phoneNumber,
      country: accounts.country,
      shard: accounts.shard,
      kind: accounts.kind,
      displayName: accounts.displayName,
      createdAt: accounts.createdAt,
    })
    .from(accounts)
    .where(eq(accounts.id, id));
  if (!account) return null;
  const now = services.clock.now();
  // Devices and keys live on the account's shard database (the one database without a
  // shard map). Raw below (devices with key counts, envelopes): per-device count
  // subqueries and a union of two index-ordered scans.
  const devices = await services.shards.sqlFor(id)<
    {
      device_id: number;
      os: string;
      os_version: string;
      app_version: string;
      model: string;
      created_at: Date;
      last_seen_at: Date | null;
      signed: number;
      one_time: number;
      kyber: number;
      kyber_last_resort: number;
    }[]
  >`
    select d.device_id, d.os, d.os_version, d.app_version, d.model, d.created_at, d.last_seen_at,
           (select count(*)::int from signed_prekeys k where k.account_id = d.account_id and k.device_id = d.device_id) as signed,
           (select count(*)::int from one_time_prekeys k where k.account_id = d.account_id and k.device_id = d.device_id) as one_time,
           (select count(*)::int from kyber_prekeys k where k.account_id = d.account_id and k.device_id = d.device_id and not k.last_resort) as kyber,
           (select count(*)::int from kyber_prekeys k where k.account_id = d.account_id and k.device_id = d.device_id and k.last_resort) as kyber_last_resort
    from devices d where d.account_id = ${id} order by d.device_id`;
  // length(content) only: the ciphertext itself is never selected. Envelopes *for* the
  // account are on its own database; envelopes *from* it on each recipient's, so those
  // are counted and listed over every database of the shard map.
  const own = services.shards.sqlFor(id);
  type Recent = {
    id: string;
    direction: "in" | "out";
    peer_account_id: string;
    peer_device_id: number;
    device_id: number;
    type: number;
    bytes: number;
    category: string | null;
    server_timestamp: Date;
  };
  const [[totals], incoming, outgoing] = await Promise.all([
    own<{ queued_for: number; bytes_for: string | null }[]>`
      select (select count(*)::int from envelopes where recipient_account_id = ${id}) as queued_for,
             (select sum(length(content)) from envelopes where recipient_account_id = ${id}) as bytes_for`,
    own<Recent[]>`
      select id::text, 'in' as direction, sender_account_id as peer_account_id, sender_device_id as peer_device_id,
             recipient_device_id as device_id, type, length(content) as bytes, category, server_timestamp
      from envelopes where recipient_account_id = ${id} order by id desc limit 25`,
    Promise.all(
      services.shards.all.map(async ({ sql }) => {
        const [[count], rows] = await Promise.all([
          sql<{ n: number }[]>`select count(*)::int as n from envelopes where sender_account_id = ${id}`,
          sql<Recent[]>`
            select id::text, 'out' as direction, recipient_account_id as peer_account_id, recipient_device_id as peer_device_id,
                   sender_device_id as device_id, type, length(content) as bytes, category, server_timestamp
            from envelopes where sender_account_id = ${id} order by id desc limit 25`,
        ]);
        return { queued: count!.n, rows };
      }),
    ),
  ]);
  // Each database numbers its own envelopes: the newest 25 each way by server time.
  const byTime = (a: Recent, b: Recent) => b.server_timestamp.getTime() - a.server_timestamp.getTime() || Number(BigInt(b.id) - BigInt(a.id));
  const recent = [...incoming, ...outgoing.flatMap((o) => o.rows).sort(byTime).slice(0, 25)].sort(byTime);
  const queuedFrom = outgoing.reduce((sum, o) => sum + o.queued, 0);
  const [usage] = await db
    .select({ messagesTotal: usageCounters.messagesTotal, activeDays: usageCounters.activeDays, lastSeenAt: usageCounters.lastSeenAt })
    .from(usageCounters)
    .where(eq(usageCounters.accountId, id));
  const history = await db
    .select({
      kind: consentEvents.kind,
      policyVersion: consentEvents.policyVersion,
      shareWithFacebook: consentEvents.shareWithFacebook,
      method: consentEvents.method,
      businessAccountId: consentEvents.businessAccountId,
      at: consentEvents.at,
    })
    .from(consentEvents)
    .where(eq(consentEvents.accountId, id))
    .orderBy(asc(consentEvents.id));
  const { state } = await services.consent.get(id);
  const shareTotal = await db.$count(shareOutbox, eq(shareOutbox.accountId, id));
  const shareEvents = await db
    .select({
      id: shareOutbox.id,
      kind: shareOutbox.kind,
      occurredAt: shareOutbox.occurredAt,
      shippedAt: shareOutbox.shippedAt,
      payload: shareOutbox.payload,
    })
    .from(shareOutbox)
    .where(eq(shareOutbox.accountId, id))
    .orderBy(desc(shareOutbox.id))
    .limit(20);
  return {
    now: now.toISOString(),
    regime: services.regime.current,
    account: {
      id: account.id,
      phoneNumber: account.phoneNumber,
      country: account.country,
      shard: account.shard,
      kind: account.kind,
      displayName: account.displayName,
      createdAt: account.createdAt.toISOString(),
    },
    devices: devices.map((d) => ({
      deviceId: d.device_id,
      os: d.os,
      osVersion: d.os_version,
      appVersion: d.app_version,
      model: d.model,
      createdAt: d.created_at.toISOString(),
      lastSeenAt: d.last_seen_at?.toISOString() ?? null,
      keys: { signedPrekeys: d.signed, oneTimePrekeys: d.one_time, kyberPrekeys: d.kyber, kyberLastResort: d.kyber_last_resort },
    })),
    envelopes: {
      queuedFor: totals!.queued_for,
      queuedFrom,
      bytesQueuedFor: Number(totals!.bytes_for ?? 0),
      recent: recent.map((e) => ({
        id: e.id,
        direction: e.direction,
        peerAccountId: e.peer_account_id,
        peerDeviceId: e.peer_device_id,
        deviceId: e.device_id,
        type: e.type,
        bytes: e.bytes,
        category: e.category,
        serverTimestamp: e.server_timestamp.toISOString(),
      })),
    },
    usage: usage
      ? { messagesTotal: usage.messagesTotal, activeDays: usage.activeDays, lastSeenAt: usage.lastSeenAt.toISOString() }
      : null,
    consent: {
      history: history.map((h) => ({ ...h, at: h.at.toISOString() })),
      terms: state.terms ? { version: state.terms.version, acceptedAt: state.terms.acceptedAt.toISOString() } : null,
      share: state.share
        ? {
            shareWithFacebook: state.share.shareWithFacebook,
            method: state.share.method,
            madeAt: state.share.madeAt.toISOString(),
            finalAt: state.share.finalAt.toISOString(),
          }
        : null,
      canUseService: canUseService(state, now, services.timeline),
      canChangeShareChoice: canChangeShareChoice(state, now),
      purposes: Object.fromEntries(PURPOSES.map((p) => [p, mayShare(state, p, now, services.regime.current)])) as Record<Purpose, boolean>,
    },
    shareEvents: {
      total: shareTotal,
      recent: shareEvents.map((e) => ({
        id: e.id,
        kind: e.kind,
        occurredAt: e.occurredAt.toISOString(),
        shippedAt: e.shippedAt?.toISOString() ?? null,
        // The payload enqueueSnapshots writes: `{ fields: { <field>: { value, purposes } } }`.
        fields: Object.entries((e.payload as { fields?: Record<string, { purposes?: string[] }> }).fields ?? {}).map(([field, v]) => ({
          field,
          purposes: v.purposes ?? [],
        })),
      })),
    },
  };
}
