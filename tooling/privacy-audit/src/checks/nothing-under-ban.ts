/**
 * Check 2: nothing at all for accounts under a ban. An account is under a ban at
 * an instant when the regime in force then maps its country to `de-ban-2016` or
 * `none`. Audit rows are judged at their `at`; shared data and links both when
 * they were made (`shared_at`, `linked_at`) and now (a later ban must have deleted
 * them); audience memberships (no timestamp) now.
 */
import type { AuditRow, LinkRow, MembershipRow, RowVisitor, SharedRow } from "../sources/facebook";
import type { CheckRecorder } from "../report";
import type { ConsentContext } from "./context";

export function nothingUnderBan(ctx: ConsentContext, recorder: CheckRecorder): RowVisitor & { finish(): void } {
  let unknown = 0;
  const bannedAt = (accountId: string, ...times: Date[]): Date | null => {
    const account = ctx.history.account(accountId);
    if (!account) {
      unknown += 1;
      return null;
    }
    return times.find((t) => ctx.regimes.bannedAt(account.country, t)) ?? null;
  };
  const check = (where: string, row: string, accountId: string, times: Date[]) => {
    recorder.examined += 1;
    const at = bannedAt(accountId, ...times);
    if (at) recorder.breach({ where, row, reason: `account under a ban at ${at.toISOString()}` });
  };
  return {
    auditRow(row: AuditRow) {
      check("audit_log", `id ${row.id} (account ${row.whatsappAccountId})`, row.whatsappAccountId, [row.at]);
    },
    sharedRow(row: SharedRow) {
      check("shared_data", `account ${row.whatsappAccountId}, field ${row.field}`, row.whatsappAccountId, [row.sharedAt, ctx.now]);
    },
    link(row: LinkRow) {
      check("links", `account ${row.whatsappAccountId}`, row.whatsappAccountId, [row.linkedAt, ctx.now]);
    },
    membership(row: MembershipRow) {
      check("audience_members", `audience ${row.audienceId}, account ${row.whatsappAccountId}`, row.whatsappAccountId, [ctx.now]);
    },
    finish() {
      if (unknown > 0) recorder.note(`${unknown} rows name accounts the messenger does not know (country unknown; checks 4 and 6 flag them)`);
    },
  };
}
