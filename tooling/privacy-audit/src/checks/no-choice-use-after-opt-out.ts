/**
 * Check 3: no `ads` or `product` use for an account that had chosen not to share,
 * with its consent replayed up to the time of use. Audit rows for `ads`/`product`
 * are judged at their `at`, except that an opt-out recorded less than
 * `CONSENT_PROPAGATION_MS` before the use (Facebook may not have received it yet)
 * excuses it when the account shared just before; links (the `product` feature)
 * and WhatsApp-derived audience memberships (`ads`) are uses held now, judged now.
 */
import { CONSENT_PROPAGATION_MS, shareChoiceAt } from "@handshake/consent";
import type { AuditRow, LinkRow, MembershipRow, RowVisitor } from "../sources/facebook";
import type { CheckRecorder } from "../report";
import type { ConsentContext } from "./context";

const CHOICE_PURPOSES = new Set(["ads", "product"]);

export function noChoiceUseAfterOptOut(ctx: ConsentContext, recorder: CheckRecorder): RowVisitor & { finish(): void } {
  /** When the account had said no by `at` (unticked the box, left it unticked, or opted out in Settings), the choice's time. */
  const optedOutAt = (accountId: string, at: Date): Date | null => {
    const state = ctx.history.stateAt(accountId, at);
    if (!state) return null;
    const choice = shareChoiceAt(state, at);
    return choice && !choice.shareWithFacebook ? (state.share?.madeAt ?? at) : null;
  };
  /** Whether the account's choice at `at` was to share (Facebook may still hold that choice a while after). */
  const sharedAt = (accountId: string, at: Date): boolean => {
    const state = ctx.history.stateAt(accountId, at);
    return (state && shareChoiceAt(state, at)?.shareWithFacebook) === true;
  };
  let inFlight = 0;
  const check = (where: string, row: string, accountId: string, purpose: string, at: Date, propagating = false) => {
    recorder.examined += 1;
    const since = optedOutAt(accountId, at);
    if (since && propagating && sharedAt(accountId, new Date(at.getTime() - CONSENT_PROPAGATION_MS))) {
      inFlight += 1;
      return;
    }
    if (since) {
      recorder.breach({ where, row, reason: `${purpose} use at ${at.toISOString()}, opted out since ${since.toISOString()}` });
    }
  };
  return {
    auditRow(row: AuditRow) {
      if (!CHOICE_PURPOSES.has(row.purpose)) return;
      check("audit_log", `id ${row.id} (account ${row.whatsappAccountId})`, row.whatsappAccountId, row.purpose, row.at, true);
    },
    link(row: LinkRow) {
      check("links", `account ${row.whatsappAccountId}`, row.whatsappAccountId, "product (link held now)", ctx.now);
    },
    membership(row: MembershipRow) {
      check("audience_members", `audience ${row.audienceId}, account ${row.whatsappAccountId}`, row.whatsappAccountId, "ads (membership held now)", ctx.now);
    },
    finish() {
      if (inFlight > 0) {
        recorder.note(`${inFlight} uses within ${CONSENT_PROPAGATION_MS / 1000} s of an opt-out that may not have reached Facebook yet (excused)`);
      }
    },
  };
}
