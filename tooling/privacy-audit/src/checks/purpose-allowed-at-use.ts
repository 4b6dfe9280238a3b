/**
 * Check 4: every audited use was allowed when it happened. For each `audit_log`
 * row: the account is known to the messenger, the purpose is one the rules know,
 * the datum is catalogued for that purpose (FIELD_CATALOGUE), and
 * `mayShare(state, purpose, at, regime)` holds with the account's consent
 * replayed up to `at` and the regime in force at `at` — or, for a consent change
 * recorded less than `CONSENT_PROPAGATION_MS` before `at` (which Facebook may not
 * have received yet), with the consent replayed up to that long before `at`.
 * The regime and the rules are always those at `at`: only the account's own choice
 * gets the propagation bound.
 */
import {
  CONSENT_PROPAGATION_MS,
  FIELD_CATALOGUE,
  mayShare,
  PURPOSES,
  regimeFor,
  shareChoiceAt,
  type CountryCode,
  type Purpose,
} from "@handshake/consent";
import type { AuditRow, RowVisitor } from "../sources/facebook";
import type { CheckRecorder } from "../report";
import type { ConsentContext } from "./context";

const KNOWN_PURPOSES = new Set<string>(PURPOSES);

export function purposeAllowedAtUse(ctx: ConsentContext, recorder: CheckRecorder): RowVisitor & { finish(): void } {
  let inFlight = 0;
  return {
    auditRow(row: AuditRow) {
      recorder.examined += 1;
      const where = "audit_log";
      const id = `id ${row.id} (account ${row.whatsappAccountId})`;
      const state = ctx.history.stateAt(row.whatsappAccountId, row.at);
      if (!state) {
        recorder.breach({ where, row: id, reason: "account unknown to the messenger: no consent to replay" });
        return;
      }
      if (!KNOWN_PURPOSES.has(row.purpose)) {
        recorder.breach({ where, row: id, reason: `purpose "${row.purpose}" is not one the consent rules know` });
        return;
      }
      const purpose = row.purpose as Purpose;
      const catalogued = (FIELD_CATALOGUE as Record<string, readonly Purpose[]>)[row.datum];
      if (!catalogued?.includes(purpose)) {
        recorder.breach({ where, row: id, reason: `datum ${row.datum} may never serve ${purpose} (field catalogue)` });
        return;
      }
      const regime = ctx.regimes.at(row.at);
      if (!mayShare(state, purpose, row.at, regime)) {
        const known = ctx.history.stateAt(row.whatsappAccountId, new Date(row.at.getTime() - CONSENT_PROPAGATION_MS));
        if (known && mayShare(known, purpose, row.at, regime)) {
          inFlight += 1;
          return;
        }
        const applied = regimeFor(regime, state.country as CountryCode, row.at);
        const choice = shareChoiceAt(state, row.at);
        const consent =
          choice === null
            ? "the 2016 terms were not accepted by then"
            : `share choice ${choice.method} (${choice.shareWithFacebook ? "shares" : "does not share"})`;
        recorder.breach({
          where,
          row: id,
          reason: `${purpose} (${row.feature}) at ${row.at.toISOString()} not allowed: regime ${applied}, ${consent}`,
        });
      }
    },
    finish() {
      if (inFlight > 0) {
        recorder.note(
          `${inFlight} uses within ${CONSENT_PROPAGATION_MS / 1000} s of a consent change that may not have reached Facebook yet: judged by the consent before it`,
        );
      }
    },
  };
}
