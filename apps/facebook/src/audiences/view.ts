/**
 * What an advertiser may know about one of its audiences: its name, how many
 * rows it sent, and an approximate size (see estimate.ts). Never who matched,
 * which rows matched, or the hashes. The advertiser API and the dashboard's
 * advertiser view both answer with exactly this.
 */
import type { AudienceSummary } from "../storage/audiences";
import { estimateAudienceSize } from "./estimate";

export function advertiserView(
  config: { estimateKey: Buffer; audienceMinimum: number },
  audience: AudienceSummary,
) {
  return {
    audienceId: audience.id,
    name: audience.name,
    uploadedRows: audience.uploadedRows,
    createdAt: audience.createdAt.toISOString(),
    size: estimateAudienceSize(audience.members, audience.listDigest, config.estimateKey, config.audienceMinimum),
  };
}
