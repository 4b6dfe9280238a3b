/**
 * The check at the door: what leaves WhatsApp must be allowed when it leaves.
 *
 * A snapshot is decided when it is written (`enqueueSnapshots`), but it may wait
 * in the outbox (Facebook down, a backlog) or sit in a batch while the simulation
 * clock passes a regulator's date (`historical-2016`: Hamburg 2016-09-27, GB
 * 2016-11-07, EU 2016-11-16). Shipped as written, it would hand Facebook purposes
 * the regime no longer allows at that moment, and Facebook links and spam-checks on
 * ingest, before the date's withdrawal snapshot (a larger sequence) arrives.
 *
 * So, right before a batch is sent, each event's fields are narrowed to what
 * `shareableFields` allows at the shipper's `now` (simulated) under the regime in
 * force then, for the account's consent state read now: the same computation a
 * snapshot written at `now` would make (`snapshotTime`, `shareableFields`). It
 * only ever removes: a purpose survives when the event carried it *and* it is
 * allowed now, so a choice made after the event cannot widen it (that choice wrote
 * its own, later snapshot). A field left with no purpose is dropped; an event
 * left with none is sent empty, which makes Facebook delete what it holds. The
 * event keeps its event id, sequence and `occurredAt`, so ingest's idempotency and
 * per-account watermarks work as before.
 *
 * The narrowed payload is written back to the outbox before it is sent: a resend
 * after a lost reply sends what was sent (or narrower), never a wider version, and
 * the outbox records what actually left.
 */
import { regimeSwitchesBetween, shareableFields, type RegimeInput, type ShareableFields, type SharedFields } from "@handshake/consent";
import type postgres from "postgres";
import type { Clock } from "../clock";
import type { ConsentStore } from "../storage/consent";
import { snapshotTime } from "./outbox";

/** The fields of `fields` with only the purposes `allowed` grants them; fields left with none are dropped. */
export function narrowFields(fields: SharedFields, allowed: ShareableFields): SharedFields {
  const out: Record<string, { value: unknown; purposes: string[] }> = {};
  for (const [field, shared] of Object.entries(fields) as [keyof SharedFields, { value: unknown; purposes: string[] }][]) {
    const permitted: readonly string[] = allowed[field] ?? [];
    const purposes = shared.purposes.filter((p) => permitted.includes(p));
    if (purposes.length > 0) out[field] = { value: shared.value, purposes };
  }
  return out as SharedFields;
}

/** True when `narrowed` carries less than `fields` (same fields, same purposes otherwise). */
function narrower(fields: SharedFields, narrowed: SharedFields): boolean {
  return JSON.stringify(fields) !== JSON.stringify(narrowed);
}

export interface CheckedRow {
  id: number;
  accountId: string;
  payload: unknown;
}

export class ShipCheck {
  /** Events narrowed at ship time so far (metrics, tests). */
  narrowed = 0;

  constructor(
    private readonly consent: ConsentStore,
    private readonly regimeAt: (at: Date) => RegimeInput,
    private readonly clock: Clock,
  ) {}

  /**
   * Narrows `rows` (in place: their payloads) to what may leave at the clock's
   * `now`, writing narrowed payloads back to the outbox in one transaction.
   * Returns the number of events narrowed.
   */
  async narrow<R extends CheckedRow>(sql: postgres.Sql, rows: R[], horizonMs = 0): Promise<number> {
    if (rows.length === 0) return 0;
    const now = this.clock.now();
    const regime = this.regimeAt(now);
    // Simulated time flows on while the batch is in flight (at most `horizonMs`): a
    // date inside that window applies already. (Clock *moves* wait for the batch; see
    // ShareShipper.exclusive.)
    const instants = [now, ...regimeSwitchesBetween(regime, now, new Date(now.getTime() + horizonMs)).map((s) => s.at)];
    return sql.begin(async (tx) => {
      const states = await this.consent.readStates(tx, [...new Set(rows.map((r) => r.accountId))]);
      const changed: { id: number; payload: string }[] = [];
      for (const row of rows) {
        const fields = (row.payload as { fields: SharedFields }).fields;
        const state = states.get(row.accountId);
        // An account we no longer know may not be shared at all.
        let narrowed = fields;
        for (const at of instants) narrowed = narrowFields(narrowed, state ? shareableFields(state, snapshotTime(state, at), regime) : {});
        if (!narrower(fields, narrowed)) continue;
        row.payload = { ...(row.payload as object), fields: narrowed };
        changed.push({ id: row.id, payload: JSON.stringify(row.payload) });
      }
      if (changed.length > 0) {
        await tx`
          update share_outbox o set payload = t.payload
          from unnest(${tx.array(changed.map((c) => c.id))}::int8[], ${tx.array(changed.map((c) => c.payload))}::jsonb[]) as t(id, payload)
          where o.id = t.id`;
      }
      this.narrowed += changed.length;
      return changed.length;
    });
  }
}
