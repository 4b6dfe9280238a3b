import type { TRPCRouterRecord } from "@trpc/server";
import { SHAREABLE_FIELDS } from "@handshake/consent";
import { addressBookEntries, auditLog, audienceMembers, links, profiles, sharedData } from "@handshake/db/facebook-schema";
import { and, asc, count, eq, max, ne, sql as q } from "drizzle-orm";
import { z } from "zod";
import { recordUses } from "../storage/audit";
import { adminProcedure } from "../trpc";

const e164 = z.string().regex(/^\+[1-9][0-9]{6,14}$/, { message: "must be E.164 (+ and digits)" });

export const profilesRouter = {
  /** Creates or replaces synthetic profiles and their uploaded address books (operators, tests). */
  upsert: adminProcedure
    .input(
      z.object({
        profiles: z
          .array(
            z.object({
              id: z.number().int().min(0),
              name: z.string().min(1).max(100),
              country: z.string().regex(/^[A-Z]{2}$/),
              phoneNumber: e164.nullable(),
              /** Numbers, or numbers with the name the uploader saved them under (the key for linking by name). */
              addressBook: z
                .array(z.union([e164, z.object({ phone: e164, name: z.string().min(1).max(100) })]))
                .max(5000)
                .default([]),
            }),
          )
          .min(1)
          .max(1000),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      // Raw: up to 1000 profiles and 5000 entries each, written as `unnest` of arrays.
      await ctx.sql.begin(async (tx) => {
        const p = input.profiles;
        await tx`
          insert into profiles (id, name, country, phone_number)
          select * from unnest(${tx.array(p.map((x) => x.id))}::int8[], ${tx.array(p.map((x) => x.name))}::text[],
                               ${tx.array(p.map((x) => x.country))}::text[], ${tx.array(p.map((x) => x.phoneNumber))}::text[])
          on conflict (id) do update set name = excluded.name, country = excluded.country, phone_number = excluded.phone_number`;
        const entries = p.flatMap((x) =>
          x.addressBook.map((e) => (typeof e === "string" ? { id: x.id, phone: e, name: null } : { id: x.id, phone: e.phone, name: e.name })),
        );
        await tx`delete from address_book_entries where profile_id = any(${tx.array(p.map((x) => x.id))}::int8[])`;
        if (entries.length > 0) {
          await tx`
            insert into address_book_entries (profile_id, phone_number, contact_name)
            select * from unnest(${tx.array(entries.map((e) => e.id))}::int8[], ${tx.array(entries.map((e) => e.phone))}::text[],
                                 ${tx.array(entries.map((e) => e.name))}::text[])
            on conflict do nothing`;
        }
      });
      return { profiles: input.profiles.length };
    }),

  /**
   * "People you may know" for a profile, from WhatsApp data allowed for `product`:
   * the number the linked WhatsApp account shared is looked up in address books
   * other people uploaded to Facebook. Each WhatsApp datum used is audited.
   */
  suggestions: adminProcedure.input(z.object({ profileId: z.number().int().min(0) })).query(async ({ ctx, input }) => {
    const at = ctx.clock.now();
    const usable = await ctx.db
      .select({ whatsappAccountId: links.whatsappAccountId, phone: q<string>`${sharedData.value} #>> '{}'` })
      .from(links)
      .innerJoin(
        sharedData,
        and(
          eq(sharedData.whatsappAccountId, links.whatsappAccountId),
          eq(sharedData.field, "phoneNumber"),
          q`'product' = any(${sharedData.purposes})`,
        ),
      )
      .where(eq(links.profileId, input.profileId));
    if (usable.length === 0) return { profileId: input.profileId, suggestions: [], usedWhatsappData: false };
    const suggestions = await ctx.db
      .selectDistinct({ id: profiles.id, name: profiles.name })
      .from(addressBookEntries)
      .innerJoin(profiles, eq(profiles.id, addressBookEntries.profileId))
      .where(
        and(
          q`${addressBookEntries.phoneNumber} = any(${q.param(usable.map((u) => u.phone))}::text[])`,
          ne(addressBookEntries.profileId, input.profileId),
        ),
      )
      .orderBy(asc(profiles.id))
      .limit(50);
    await recordUses(
      ctx.sql,
      usable.map((u) => ({ whatsappAccountId: u.whatsappAccountId, datum: "phoneNumber", purpose: "product", feature: "suggestion" as const, at })),
    );
    return { profileId: input.profileId, suggestions: suggestions.map((s) => ({ profileId: s.id, name: s.name })), usedWhatsappData: true };
  }),
} satisfies TRPCRouterRecord;

export const accountsRouter = {
  /**
   * Everything Facebook holds about one WhatsApp account (dashboard, operators):
   * the shared fields with their purposes, the link, the uses audited, and what it
   * does not have.
   */
  view: adminProcedure.input(z.object({ whatsappAccountId: z.uuid() })).query(async ({ ctx, input }) => {
    const id = input.whatsappAccountId;
    const { db } = ctx;
    const fields = await db
      .select({ field: sharedData.field, value: sharedData.value, purposes: sharedData.purposes, sharedAt: sharedData.sharedAt })
      .from(sharedData)
      .where(eq(sharedData.whatsappAccountId, id))
      .orderBy(asc(sharedData.field));
    const [link] = await db
      .select({ profileId: links.profileId, linkedAt: links.linkedAt, name: profiles.name })
      .from(links)
      .leftJoin(profiles, eq(profiles.id, links.profileId))
      .where(eq(links.whatsappAccountId, id));
    const uses = await db
      .select({ feature: auditLog.feature, purpose: auditLog.purpose, n: count(), last: max(auditLog.at) })
      .from(auditLog)
      .where(eq(auditLog.whatsappAccountId, id))
      .groupBy(auditLog.feature, auditLog.purpose)
      .orderBy(asc(auditLog.feature), asc(auditLog.purpose));
    const audiences = await db.select({ n: count() }).from(audienceMembers).where(eq(audienceMembers.whatsappAccountId, id));
    if (fields.length === 0 && !link && uses.length === 0) {
      // Not an error: Facebook may simply hold nothing about this account.
      return { whatsappAccountId: id, fields: [], link: null, uses: [], audienceMemberships: 0, notHeld: [...SHAREABLE_FIELDS], neverHeld: NEVER_HELD };
    }
    const held = new Set(fields.map((f) => f.field));
    return {
      whatsappAccountId: id,
      fields: fields.map((f) => ({ field: f.field, value: f.value, purposes: f.purposes, sharedAt: f.sharedAt.toISOString() })),
      link: link ? { profileId: link.profileId, name: link.name, linkedAt: link.linkedAt.toISOString() } : null,
      // `last` is never null: a group has at least one row.
      uses: uses.map((u) => ({ feature: u.feature, purpose: u.purpose, count: u.n, lastAt: u.last!.toISOString() })),
      audienceMemberships: audiences[0]?.n ?? 0,
      notHeld: SHAREABLE_FIELDS.filter((f) => !held.has(f)),
      neverHeld: NEVER_HELD,
    };
  }),
} satisfies TRPCRouterRecord;

/** What never crosses from WhatsApp, by design (the share event format has no place for it). */
const NEVER_HELD = ["message content", "contact lists", "who messages whom", "message times and sizes"];

