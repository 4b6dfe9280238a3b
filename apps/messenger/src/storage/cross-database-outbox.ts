/**
 * An outbox of work one shard database owes another, written by the same statement as
 * the change that owes it (so it is owed exactly when that commits), then:
 *  - right after the commit, `forward` delivers the rows to the other database and,
 *    once that is through, deletes them here;
 *  - every `sweepIntervalMs`, `sweep` delivers what is still here after `minAgeMs`:
 *    rows whose delivery failed (the other database down, for as long as it is down)
 *    or never ran (the node killed between the commit and the forward). Any node
 *    sweeps any database it holds a pool for.
 * A row may be delivered twice (a sweep and a forward overlapping, a row that outlived
 * a delivery that committed): each kind's `deliver` is idempotent at the destination.
 * Kinds: `receipt-outbox.ts` (delivery receipts for senders on another database) and
 * `usage-outbox.ts` (message counts for home's usage counters).
 */
import type postgres from "postgres";
import type { Logger } from "../log";

export interface OutboxOptions {
  /** How often the outbox is swept (default 5 s). */
  sweepIntervalMs?: number;
  /** Rows younger than this are left to the forward after their commit (default 5 s). */
  minAgeMs?: number;
  /** Rows delivered per sweep step (default 500). */
  batch?: number;
}

export interface OutboxKind<T extends { outboxId: string }, Row extends { id: string }> {
  table: "receipt_outbox" | "usage_outbox";
  /** What the rows are, for the logs ("delivery receipts for another database"). */
  what: string;
  /** An outbox row as `deliver` takes it (`id` is the row's; its `created_at` is the sweep's). */
  fromRow(row: Row): T;
  /** Delivers rows to their destination; must store each once however often it is called. */
  deliver(rows: T[]): Promise<void>;
}

export class CrossDatabaseOutbox<T extends { outboxId: string }, Row extends { id: string } = { id: string }> {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;
  private stopped = false;
  private readonly sweepIntervalMs: number;
  private readonly minAgeMs: number;
  private readonly batch: number;
  /** Rows delivered (by a forward or a sweep), rows a sweep delivered, failed forwards and sweeps. */
  readonly stats = { forwarded: 0, swept: 0, failures: 0 };

  constructor(
    /** The database whose outbox this is. */
    private readonly sql: postgres.Sql,
    private readonly kind: OutboxKind<T, Row>,
    private readonly logger: Logger,
    options: OutboxOptions = {},
  ) {
    this.sweepIntervalMs = options.sweepIntervalMs ?? 5_000;
    this.minAgeMs = options.minAgeMs ?? 5_000;
    this.batch = options.batch ?? 500;
  }

  /** After the commit that wrote `rows`: deliver them, then drop them here. */
  forward(rows: T[]): void {
    void this.deliver(rows).catch((err: unknown) => {
      this.stats.failures += 1;
      // They stay in the outbox; the sweep delivers them once the destination answers.
      this.logger.warn({ err, rows: rows.length }, `${this.kind.what} not delivered yet; the outbox sweep retries`);
    });
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.sweep()
        .catch((err: unknown) => {
          this.stats.failures += 1;
          this.logger.warn({ err }, `${this.kind.table} sweep failed; the next sweep retries`);
          return 0;
        })
        .finally(() => (this.sweeping = null));
    }, this.sweepIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sweeping;
  }

  /** Delivers every row older than `minAgeMs`, a batch at a time; returns how many. */
  async sweep(): Promise<number> {
    let total = 0;
    for (let after = "0"; !this.stopped; ) {
      const rows = (
        await this.sql<Row[]>`
          select * from ${this.sql(this.kind.table)}
          where id > ${after} and created_at <= now() - make_interval(secs => ${this.minAgeMs / 1000})
          order by id
          limit ${this.batch}`
      ).map((row) => this.kind.fromRow(row));
      if (rows.length === 0) break;
      await this.deliver(rows);
      total += rows.length;
      this.stats.swept += rows.length;
      after = rows[rows.length - 1]!.outboxId;
      if (rows.length < this.batch) break;
    }
    return total;
  }

  private async deliver(rows: T[]): Promise<void> {
    await this.kind.deliver(rows);
    await this.sql`delete from ${this.sql(this.kind.table)} where id = any(${this.sql.array(rows.map((r) => r.outboxId))}::int8[])`;
    this.stats.forwarded += rows.length;
  }
}
