/**
 * What Facebook gained from WhatsApp's data, and what it lost when users opted out,
 * grouped by the consent regime each profile's country is under (the caller names
 * the regime: it is the messenger's configuration, this side never reads it).
 *
 * Gains are read live, and only from data that may serve the feature now (a link's
 * number for `product`, a membership's number for `ads`, a device model for `ads`),
 * so a withdrawal shows up here at once. Losses are the counts `withdrawal_losses`
 * kept when links and memberships were removed. Counting is not a use of anyone's
 * data for a feature, so it writes no audit row; nothing here names an account or
 * a profile.
 */
import { regimeFor, type CountryCode, type Regime, type RegimeInput } from "@handshake/consent";
import type postgres from "postgres";

export interface RegimeGains {
  /** The regime, or `all` when none was named. */
  regime: Regime | "all";
  countries: string[];
  /** Profiles linked to a WhatsApp account whose profile already held the shared number. */
  linkedByPhone: number;
  /** Extra linked profiles: no number or a stale one, found through the verified number (address-book name). */
  linkedByName: number;
  audience: {
    /** Memberships through Facebook's own numbers. */
    ownMatches: number;
    /** Extra memberships through WhatsApp numbers that may serve `ads` now. */
    whatsappMatches: number;
    /** (own + WhatsApp) / own, null when there is no own match. */
    lift: number | null;
  };
  /** People-you-may-know pairs found only through a WhatsApp number allowed for `product`. */
  extraSuggestions: number;
  /** Linked profiles that get at least one such suggestion. */
  profilesWithExtraSuggestions: number;
  /** Linked profiles whose device model may serve `ads` (device targeting). */
  deviceTargetable: number;
  /** What withdrawals took away (opt-outs, regime switches, bans), since the start. */
  lost: { links: number; linksByName: number; audienceMemberships: number };
}

export interface GainsView {
  at: string;
  /** All audiences together: distinct uploaded rows and how many matched with and without WhatsApp. */
  audiences: { uploadedRows: number; ownMatches: number; whatsappMatches: number; matchRate: number | null; matchRateWithWhatsapp: number | null };
  byRegime: RegimeGains[];
}

type Counts = Omit<RegimeGains, "regime" | "countries" | "audience"> & { ownMatches: number; whatsappMatches: number };

const empty = (): Counts => ({
  linkedByPhone: 0,
  linkedByName: 0,
  ownMatches: 0,
  whatsappMatches: 0,
  extraSuggestions: 0,
  profilesWithExtraSuggestions: 0,
  deviceTargetable: 0,
  lost: { links: 0, linksByName: 0, audienceMemberships: 0 },
});

export async function readGains(sql: postgres.Sql, at: Date, regime: RegimeInput | undefined): Promise<GainsView> {
  const byCountry = new Map<string, Counts>();
  const of = (country: string) => {
    let c = byCountry.get(country);
    if (!c) byCountry.set(country, (c = empty()));
    return c;
  };
  const [links, members, suggestions, devices, losses, audiences] = await Promise.all([
    sql<{ country: string; linked_by: string; n: number }[]>`
      select p.country, l.linked_by, count(*)::int as n
      from links l join profiles p on p.id = l.profile_id
      where exists (select 1 from shared_data sd where sd.whatsapp_account_id = l.whatsapp_account_id
                      and sd.field = 'phoneNumber' and 'product' = any(sd.purposes))
      group by p.country, l.linked_by`,
    sql<{ country: string; own: number; whatsapp: number }[]>`
      select p.country,
             count(*) filter (where not m.via_whatsapp)::int as own,
             count(*) filter (where m.via_whatsapp and exists (
               select 1 from shared_data sd where sd.whatsapp_account_id = m.whatsapp_account_id
                 and sd.field = 'phoneNumber' and 'ads' = any(sd.purposes)))::int as whatsapp
      from audience_members m join profiles p on p.id = m.profile_id
      group by p.country`,
    sql<{ country: string; pairs: number; profiles: number }[]>`
      with extra as (
        select distinct p.country, l.profile_id, a.profile_id as suggested
        from links l
        join shared_data sd on sd.whatsapp_account_id = l.whatsapp_account_id and sd.field = 'phoneNumber' and 'product' = any(sd.purposes)
        join profiles p on p.id = l.profile_id
        join address_book_entries a on a.phone_number = (sd.value #>> '{}') and a.profile_id <> l.profile_id
        where p.phone_number is null or not exists (
          select 1 from address_book_entries o where o.profile_id = a.profile_id and o.phone_number = p.phone_number)
      )
      select country, count(*)::int as pairs, count(distinct profile_id)::int as profiles from extra group by country`,
    sql<{ country: string; n: number }[]>`
      select p.country, count(distinct l.profile_id)::int as n
      from links l join profiles p on p.id = l.profile_id
      join shared_data sd on sd.whatsapp_account_id = l.whatsapp_account_id and sd.field = 'deviceModel' and 'ads' = any(sd.purposes)
      group by p.country`,
    sql<{ country: string; linked_by: string; links: number; members: number }[]>`
      select country, linked_by, sum(links)::int as links, sum(audience_memberships)::int as members
      from withdrawal_losses group by country, linked_by`,
    sql<{ uploaded: number }[]>`select count(*)::int as uploaded from audience_hashes`,
  ]);
  for (const r of links) of(r.country)[r.linked_by === "name" ? "linkedByName" : "linkedByPhone"] += r.n;
  for (const r of members) {
    of(r.country).ownMatches += r.own;
    of(r.country).whatsappMatches += r.whatsapp;
  }
  for (const r of suggestions) {
    of(r.country).extraSuggestions += r.pairs;
    of(r.country).profilesWithExtraSuggestions += r.profiles;
  }
  for (const r of devices) of(r.country).deviceTargetable += r.n;
  for (const r of losses) {
    const lost = of(r.country).lost;
    lost.links += r.links;
    if (r.linked_by === "name") lost.linksByName += r.links;
    lost.audienceMemberships += r.members;
  }

  const groups = new Map<Regime | "all", { countries: string[]; counts: Counts }>();
  for (const [country, counts] of [...byCountry].sort(([a], [b]) => a.localeCompare(b))) {
    const key = regime === undefined ? "all" : regimeFor(regime, country as CountryCode, at);
    const group = groups.get(key) ?? { countries: [], counts: empty() };
    group.countries.push(country);
    add(group.counts, counts);
    groups.set(key, group);
  }
  const total = empty();
  for (const c of byCountry.values()) add(total, c);
  const uploaded = audiences[0]?.uploaded ?? 0;
  return {
    at: at.toISOString(),
    audiences: {
      uploadedRows: uploaded,
      ownMatches: total.ownMatches,
      whatsappMatches: total.whatsappMatches,
      matchRate: uploaded > 0 ? total.ownMatches / uploaded : null,
      matchRateWithWhatsapp: uploaded > 0 ? (total.ownMatches + total.whatsappMatches) / uploaded : null,
    },
    byRegime: [...groups].map(([key, { countries, counts }]) => {
      const { ownMatches, whatsappMatches, ...rest } = counts;
      return {
        regime: key,
        countries,
        ...rest,
        audience: { ownMatches, whatsappMatches, lift: ownMatches > 0 ? (ownMatches + whatsappMatches) / ownMatches : null },
      };
    }),
  };
}

function add(into: Counts, from: Counts): void {
  into.linkedByPhone += from.linkedByPhone;
  into.linkedByName += from.linkedByName;
  into.ownMatches += from.ownMatches;
  into.whatsappMatches += from.whatsappMatches;
  into.extraSuggestions += from.extraSuggestions;
  into.profilesWithExtraSuggestions += from.profilesWithExtraSuggestions;
  into.deviceTargetable += from.deviceTargetable;
  into.lost.links += from.lost.links;
  into.lost.linksByName += from.lost.linksByName;
  into.lost.audienceMemberships += from.lost.audienceMemberships;
}
