/**
 * Check 7: Facebook holds each account's newest share snapshot, and that
 * snapshot follows the newest consent. Catches what checks 2–6 judge only by
 * their effects: a snapshot written from stale consent after an opt-out (a leak
 * even while it is still in the outbox), and an ordering failure at ingest (an
 * older snapshot applied over a newer one, e.g. after a withdrawal emptied what
 * was held). For every account with share events:
 *  - the newest event (largest per-account sequence) may carry no purpose that
 *    `mayShare` denies now for the account's newest consent;
 *  - once it is shipped, Facebook's `shared_data` for the account holds exactly
 *    its fields and purposes, and Facebook's watermark is its sequence.
 */
import { FIELD_CATALOGUE, mayShare, PURPOSES, type Purpose } from "@handshake/consent";
import type postgres from "postgres";
import type { CheckRecorder } from "../report";
import { loadHeldFor } from "../sources/facebook";
import { pageNewestSnapshots } from "../sources/messenger";
import type { ConsentContext } from "./context";

const signature = (fields: Record<string, string[]>) =>
  Object.keys(fields)
    .sort()
    .map((f) => `${f}:${fields[f]!.join(",")}`)
    .join(" ");

export async function newestSnapshotHeld(
  messenger: postgres.Sql,
  facebook: postgres.Sql,
  ctx: ConsentContext,
  recorder: CheckRecorder,
  progress: (done: number) => void,
): Promise<void> {
  const regime = ctx.regimes.at(ctx.now);
  let done = 0;
  let inFlight = 0;
  for await (const page of pageNewestSnapshots(messenger)) {
    const held = await loadHeldFor(
      facebook,
      page.filter((s) => s.shipped).map((s) => s.accountId),
    );
    for (const snapshot of page) {
      recorder.examined += 1;
      const id = `account ${snapshot.accountId}, sequence ${snapshot.sequence}`;
      const state = ctx.history.stateAt(snapshot.accountId, ctx.now);
      if (!state) {
        recorder.breach({ where: "share_outbox", row: id, reason: "account unknown to the messenger" });
        continue;
      }
      const allowed = new Set(PURPOSES.filter((p) => mayShare(state, p, ctx.now, regime)));
      for (const [field, purposes] of Object.entries(snapshot.fields)) {
        const catalogued: readonly Purpose[] = (FIELD_CATALOGUE as Record<string, readonly Purpose[]>)[field] ?? [];
        const excess = purposes.filter((p) => !allowed.has(p as Purpose) || !catalogued.includes(p as Purpose));
        if (excess.length > 0) {
          recorder.breach({
            where: "share_outbox",
            row: `${id}, field ${field}`,
            reason: `newest snapshot grants ${excess.join(", ")}, which the newest consent does not allow`,
          });
        }
      }
      if (!snapshot.shipped) {
        inFlight += 1;
        continue;
      }
      const atFacebook = held.get(snapshot.accountId) ?? { fields: {}, watermark: null };
      if (atFacebook.watermark !== snapshot.sequence) {
        recorder.breach({
          where: "ingest_watermarks",
          row: id,
          reason: `Facebook's newest applied sequence is ${atFacebook.watermark ?? "none"}, not the newest shipped`,
        });
      } else if (signature(atFacebook.fields) !== signature(snapshot.fields)) {
        recorder.breach({ where: "shared_data", row: id, reason: "what Facebook holds differs from the newest snapshot" });
      }
    }
    done += page.length;
    progress(done);
  }
  if (inFlight > 0) recorder.note(`${inFlight} accounts' newest snapshot not shipped yet: judged against consent, not compared with Facebook`);
}
