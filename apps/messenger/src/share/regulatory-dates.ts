/**
 * Regulators' dates on the simulation clock. Under a dated regime (`historical-2016`)
 * what may be shared changes when the clock passes a date, not when anybody acts: the
 * Hamburg order of 2016-09-27 stops German sharing and orders deletion of what was
 * forwarded; the ICO (2016-11-07) and EU (mid-November) pauses take ads and product
 * away. A clock move across such a date writes a fresh snapshot, through the share
 * outbox, for every affected account that accepted the 2016 terms, so Facebook deletes
 * (or narrows) what it holds as it does for a switch of regime.
 */
import { regimeSwitchesBetween, SHARING_POLICY_VERSION, type RegimeInput } from "@handshake/consent";
import { drizzleOn } from "@handshake/db/client";
import { accounts, consentEvents } from "@handshake/db/messenger-schema";
import { and, asc, eq, gt, sql as q } from "drizzle-orm";
import type postgres from "postgres";
import type { ConsentStore } from "../storage/consent";
import { enqueueSnapshots } from "./outbox";

const PAGE = 2000;

/**
 * Enqueues snapshots for the regime switches of `regimeAt(until)` in (`after`, `until`],
 * each computed at the switch's instant under the regime in force then. Returns the
 * number of events written (accounts that never shared anything get none).
 */
export async function enqueueRegulatorySnapshots(
  sql: postgres.Sql,
  consent: ConsentStore,
  regimeAt: (at: Date) => RegimeInput,
  after: Date,
  until: Date,
): Promise<number> {
  let written = 0;
  for (const change of regimeSwitchesBetween(regimeAt(until), after, until)) {
    const regime = regimeAt(change.at);
    const countries = change.countries ? [...change.countries] : null;
    let cursor = "00000000-0000-0000-0000-000000000000";
    for (;;) {
      const page = await drizzleOn(sql)
        .selectDistinct({ account_id: consentEvents.accountId })
        .from(consentEvents)
        .innerJoin(accounts, eq(accounts.id, consentEvents.accountId))
        .where(
          and(
            eq(consentEvents.kind, "terms-accepted"),
            eq(consentEvents.policyVersion, SHARING_POLICY_VERSION),
            gt(consentEvents.accountId, cursor),
            countries === null ? undefined : q`${accounts.country} = any(${q.param(countries)}::text[])`,
          ),
        )
        .orderBy(asc(consentEvents.accountId))
        .limit(PAGE);
      if (page.length === 0) break;
      cursor = page[page.length - 1]!.account_id;
      // Consent is read inside the transaction, after the accounts' sequences are claimed
      // (as every snapshot is), so a choice committing meanwhile is never overtaken.
      written += await sql.begin((tx) =>
        enqueueSnapshots(
          tx,
          "regime",
          page.map((r) => r.account_id),
          change.at,
          (locked, ids) => consent.readStates(locked, ids),
          () => regime,
        ),
      );
    }
  }
  return written;
}

/**
 * Remembers up to when regulators' dates were handled, so every date is handled once
 * whether the clock jumped across it (admin moves) or flowed past it at run speed
 * (the server's periodic check). Checks run one at a time.
 */
export class RegulatoryWatch {
  private chain: Promise<number> = Promise.resolve(0);

  constructor(
    private readonly sql: postgres.Sql,
    private readonly consent: ConsentStore,
    private readonly regimeAt: (at: Date) => RegimeInput,
    private checkedUntil: Date,
  ) {}

  /** Handles the switches in (last check, `now`]; returns the events written by this check. */
  check(now: Date): Promise<number> {
    const next = this.chain.then(async () => {
      if (now.getTime() <= this.checkedUntil.getTime()) return 0;
      const written = await enqueueRegulatorySnapshots(this.sql, this.consent, this.regimeAt, this.checkedUntil, now);
      this.checkedUntil = now;
      return written;
    });
    this.chain = next.catch(() => 0);
    return next;
  }
}
