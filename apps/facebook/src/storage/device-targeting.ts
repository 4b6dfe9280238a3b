/**
 * Ad targeting by device: the model of the phone a profile's linked WhatsApp account
 * uses, and the platform it implies. Only a device model held for `ads` may be used
 * (the field catalogue, packages/consent fields.ts, never lets the OS or its version
 * serve ads, so the platform is read from the model, not from `os`). Each use is audited.
 */
import type postgres from "postgres";
import { recordUses } from "./audit";

export type Platform = "iOS" | "Android" | "other";

export interface DeviceSegment {
  deviceModel: string;
  platform: Platform;
}

/** The platform a device model implies (iPhones are iOS; Lumia, BlackBerry, Nokia feature phones are other). */
export function platformOf(model: string): Platform {
  if (/^iPhone/i.test(model)) return "iOS";
  if (/lumia|blackberry|nokia|symbian/i.test(model)) return "other";
  return "Android";
}

/**
 * The device segment of a profile for ad targeting, or null when no linked WhatsApp
 * account holds a device model that may serve `ads` now. The datum is locked while
 * its use is written, so a concurrent withdrawal either comes first (null) or after.
 */
export async function deviceSegmentFor(sql: postgres.Sql, profileId: number, at: Date): Promise<DeviceSegment | null> {
  return sql.begin(async (tx) => {
    const [row] = await tx<{ whatsapp_account_id: string; model: string }[]>`
      select sd.whatsapp_account_id, sd.value #>> '{}' as model
      from links l join shared_data sd on sd.whatsapp_account_id = l.whatsapp_account_id and sd.field = 'deviceModel'
      where l.profile_id = ${profileId} and 'ads' = any(sd.purposes)
      order by l.linked_at, l.whatsapp_account_id limit 1
      for share of sd`;
    if (!row) return null;
    await recordUses(tx, [{ whatsappAccountId: row.whatsapp_account_id, datum: "deviceModel", purpose: "ads", feature: "device-target", at }]);
    return { deviceModel: row.model, platform: platformOf(row.model) };
  });
}
