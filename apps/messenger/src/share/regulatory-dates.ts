/**
 * Regulators' dates on the simulation clock. Under a dated regime (`historical-2016`)
 * what may be shared changes when the clock passes a date, not when anybody acts: the
 * Hamburg order of 2016-09-27 stops German sharing and orders deletion of what was
 * forwarded; the ICO (2016-11-07) and EU (mid-November) pauses take ads and product
 * away. A clock move across such a date writes a fresh snapshot, through the share
 * outbox, for every affected account that accepted the 2016 terms, so Facebook deletes
 * (or narrows) what it holds as it does for a switch of regime. Each date is handled
 * once and for good, also when the clock passed it while the service was down: the
 * server checks at start-up.
 */
import { regimeSwitchesBetween, SHARING_POLICY_VERSION, type RegimeInput } from "@handshake/consent";
import type postgres from "postgres";
import type { ConsentStore } from "../storage/consent";
import { enqueueSnapshots } from "./outbox";

const PAGE = 2000;
const FIRST_CURSOR = "00000000-0000-0000-0000-000000000000";

/** A regime switch on the clock: its instant and the countries it concerns (all when undefined). */
export interface DatedSwitch {
  at: Date;
  countries: readonly string[] | undefined;
}

/** The `regulatory_dates` key of a switch. */
function scopeOf(change: DatedSwitch): string {
  return change.countries ? [...change.countries].sort().join(",") : "*";
}

/**
 * Handles one switch: enqueues, page by page, a snapshot computed at `now` (the
 * check's time, at or after the switch) under the regime in force then, for every
 * affected account that accepted the 2016 terms (accounts that never shared
 * anything get none). Not at the switch's own instant: a switch handled late (after
 * a restart, or one of a regime switched on after its dates) must not send a state
 * that later dates have overtaken — replaying 2016-08-25 after Hamburg's order
 * would hand German data back to Facebook under a newer sequence. Each page commits
 * with its progress in `regulatory_dates`, whose row is locked for the page: a
 * restart resumes after the last committed page, two nodes never write the same
 * page, and a switch marked done is skipped. Returns the number of events written.
 */
export async function handleRegulatorySwitch(
  sql: postgres.Sql,
  consent: ConsentStore,
  regimeAt: (at: Date) => RegimeInput,
  change: DatedSwitch,
  now: Date,
): Promise<number> {
  const at = now.getTime() < change.at.getTime() ? change.at : now;
  const regime = regimeAt(at);
  const countries = change.countries ? [...change.countries] : null;
  const scope = scopeOf(change);
  await sql`
    insert into regulatory_dates (at, scope, cursor) values (${change.at}, ${scope}, ${FIRST_CURSOR})
    on conflict (at, scope) do nothing`;
  let written = 0;
  for (;;) {
    const pageWritten = await sql.begin(async (tx) => {
      const [progress] = await tx<{ cursor: string; done: boolean }[]>`
        select cursor, done from regulatory_dates where at = ${change.at} and scope = ${scope} for update`;
      if (!progress || progress.done) return null;
      const page = await tx<{ account_id: string }[]>`
        select distinct e.account_id from consent_events e join accounts a on a.id = e.account_id
        where e.kind = 'terms-accepted' and e.policy_version = ${SHARING_POLICY_VERSION}
          and e.account_id > ${progress.cursor}
          and (${countries === null} or a.country = any(${tx.array(countries ?? [])}::text[]))
        order by e.account_id limit ${PAGE}`;
      if (page.length === 0) {
        await tx`update regulatory_dates set done = true where at = ${change.at} and scope = ${scope}`;
        return null;
      }
      // Consent is read inside the transaction, after the accounts' sequences are claimed
      // (as every snapshot is), so a choice committing meanwhile is never overtaken.
      const events = await enqueueSnapshots(
        tx,
        "regime",
        page.map((r) => r.account_id),
        at,
        (locked, ids) => consent.readStates(locked, ids),
        () => regime,
      );
      await tx`update regulatory_dates set cursor = ${page[page.length - 1]!.account_id} where at = ${change.at} and scope = ${scope}`;
      return events;
    });
    if (pageWritten === null) return written;
    written += pageWritten;
  }
}

/**
 * Handles every regulator's date the clock has passed, once, whether the clock jumped
 * across it (admin moves), flowed past it at run speed (the server's periodic check)
 * or passed it while the service was down (the check at start-up). What was handled
 * is stored (`regulatory_dates`), so a second check, a restart or another node writes
 * nothing more. Checks run one at a time.
 */
export class RegulatoryWatch {
  private chain: Promise<number> = Promise.resolve(0);
  /** Switches known to be done (loaded from the database on the first check). */
  private done: Set<string> | null = null;

  constructor(
    private readonly sql: postgres.Sql,
    private readonly consent: ConsentStore,
    private readonly regimeAt: (at: Date) => RegimeInput,
  ) {}

  /** Handles the switches at or before `now` not yet done; returns the events written by this check. */
  check(now: Date): Promise<number> {
    const next = this.chain.then(() => this.handleUntil(now));
    this.chain = next.catch(() => 0);
    return next;
  }

  private async handleUntil(now: Date): Promise<number> {
    const pending = regimeSwitchesBetween(this.regimeAt(now), new Date(0), now);
    if (pending.length === 0) return 0;
    if (this.done === null) {
      const rows = await this.sql<{ at: Date; scope: string }[]>`select at, scope from regulatory_dates where done`;
      this.done = new Set(rows.map((r) => `${r.at.toISOString()} ${r.scope}`));
    }
    let written = 0;
    for (const change of pending) {
      const key = `${change.at.toISOString()} ${scopeOf(change)}`;
      if (this.done.has(key)) continue;
      written += await handleRegulatorySwitch(this.sql, this.consent, this.regimeAt, change, now);
      this.done.add(key);
    }
    return written;
  }
}
