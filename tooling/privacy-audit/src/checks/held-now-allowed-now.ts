/**
 * Check 6: what Facebook holds now may be held now, i.e. withdrawals (opt-outs,
 * regime changes) were applied. For each `shared_data` row, its purposes must be
 * within what the field catalogue and `mayShare` allow at the latest simulated
 * time. Accounts whose latest share events are still in the outbox (written less
 * than the grace period ago) are skipped: their withdrawal may be on its way.
 */
import { FIELD_CATALOGUE, mayShare, PURPOSES, type Purpose } from "@handshake/consent";
import type { RowVisitor, SharedRow } from "../sources/facebook";
import type { CheckRecorder } from "../report";
import type { ConsentContext } from "./context";

export function heldNowAllowedNow(
  ctx: ConsentContext,
  recorder: CheckRecorder,
  inFlight: ReadonlySet<string>,
): RowVisitor & { finish(): void } {
  const allowedNow = new Map<string, Set<string> | null>();
  const regime = ctx.regimes.at(ctx.now);
  const skipped = new Set<string>();
  const allowedFor = (accountId: string) => {
    if (!allowedNow.has(accountId)) {
      const state = ctx.history.stateAt(accountId, ctx.now);
      allowedNow.set(accountId, state ? new Set(PURPOSES.filter((p) => mayShare(state, p, ctx.now, regime))) : null);
    }
    return allowedNow.get(accountId)!;
  };
  return {
    sharedRow(row: SharedRow) {
      if (inFlight.has(row.whatsappAccountId)) {
        skipped.add(row.whatsappAccountId);
        return;
      }
      recorder.examined += 1;
      const id = `account ${row.whatsappAccountId}, field ${row.field}`;
      const allowed = allowedFor(row.whatsappAccountId);
      if (!allowed) {
        recorder.breach({ where: "shared_data", row: id, reason: "account unknown to the messenger" });
        return;
      }
      const catalogued: readonly Purpose[] = (FIELD_CATALOGUE as Record<string, readonly Purpose[]>)[row.field] ?? [];
      const excess = row.purposes.filter((p) => !allowed.has(p) || !catalogued.includes(p as Purpose));
      if (excess.length > 0) {
        recorder.breach({ where: "shared_data", row: id, reason: `held for ${excess.join(", ")}, not allowed at ${ctx.now.toISOString()}` });
      }
    },
    finish() {
      if (skipped.size > 0) recorder.note(`${skipped.size} accounts skipped: share events written within the grace period not yet shipped`);
    },
  };
}
