/**
 * Check 3: no `ads` or `product` use for an account that had chosen not to share,
 * with its consent replayed up to the time of use. Audit rows for `ads`/`product`
 * are judged at their `at`; links (the `product` feature) and WhatsApp-derived
 * audience memberships (`ads`) are uses held now, judged now.
 */
import { shareChoiceAt } from "@handshake/consent";
import type { AuditRow, LinkRow, MembershipRow, RowVisitor } from "../sources/facebook";
import type { CheckRecorder } from "../report";
import type { ConsentContext } from "./context";

const CHOICE_PURPOSES = new Set(["ads", "product"]);

export function noChoiceUseAfterOptOut(ctx: ConsentContext, recorder: CheckRecorder): RowVisitor {
  /** When the account had said no by `at` (unticked the box, left it unticked, or opted out in Settings), the choice's time. */
  const optedOutAt = (accountId: string, at: Date): Date | null => {
    const state = ctx.history.stateAt(accountId, at);
    if (!state) return null;
    const choice = shareChoiceAt(state, at);
    return choice && !choice.shareWithFacebook ? (state.share?.madeAt ?? at) : null;
  };
  const check = (where: string, row: string, accountId: string, purpose: string, at: Date) => {
    recorder.examined += 1;
    const since = optedOutAt(accountId, at);
    if (since) {
      recorder.breach({ where, row, reason: `${purpose} use at ${at.toISOString()}, opted out since ${since.toISOString()}` });
    }
  };
  return {
    auditRow(row: AuditRow) {
      if (!CHOICE_PURPOSES.has(row.purpose)) return;
      check("audit_log", `id ${row.id} (account ${row.whatsappAccountId})`, row.whatsappAccountId, row.purpose, row.at);
    },
    link(row: LinkRow) {
      check("links", `account ${row.whatsappAccountId}`, row.whatsappAccountId, "product (link held now)", ctx.now);
    },
    membership(row: MembershipRow) {
      check("audience_members", `audience ${row.audienceId}, account ${row.whatsappAccountId}`, row.whatsappAccountId, "ads (membership held now)", ctx.now);
    },
  };
}
