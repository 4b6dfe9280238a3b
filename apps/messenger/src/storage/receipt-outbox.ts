/**
 * Delivery receipts owed to senders on another database of the shard map.
 *
 * An ack deletes the acknowledged envelopes on the acknowledging device's database.
 * A sender whose device is on that database gets its receipt in the same statement;
 * for a sender elsewhere, the statement writes the receipt into this database's
 * `receipt_outbox` instead (`deleteAndReceipt` in `queue.ts`), so it is owed exactly
 * when the ack commits. Then:
 *  - right after the commit, `forward` hands the owed receipts to the sender's
 *    database's queue writer and, once that commit is through, deletes their outbox
 *    rows here;
 *  - every `sweepIntervalMs`, `sweep` forwards what is still in the outbox after
 *    `minAgeMs`: receipts whose forward failed (the sender's database down, for as long
 *    as it is down) or never ran (the node killed between the ack's commit and the
 *    forward). Any node sweeps any database it holds a pool for.
 * A receipt may be forwarded twice (the forward committed on the sender's database but
 * the outbox row outlived it, or a sweep and a forward overlapped): the sender's
 * database stores it once (`accepted_receipts`, see `insertReceipts`).
 */
import type postgres from "postgres";
import type { Logger } from "../log";
import type { OwedReceipt, ShardedQueueWriter } from "./queue";

export interface ReceiptOutboxOptions {
  /** How often the outbox is swept (default 5 s). */
  sweepIntervalMs?: number;
  /** Rows younger than this are left to the forward after their commit (default 5 s). */
  minAgeMs?: number;
  /** Rows forwarded per sweep step (default 500). */
  batch?: number;
}

export class ReceiptOutbox {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;
  private stopped = false;
  private readonly sweepIntervalMs: number;
  private readonly minAgeMs: number;
  private readonly batch: number;
  /** Receipts forwarded (stored on the sender's database or found there already), and failed forwards. */
  readonly stats = { forwarded: 0, swept: 0, failures: 0 };

  constructor(
    /** The database whose outbox this is. */
    private readonly sql: postgres.Sql,
    private readonly writer: ShardedQueueWriter,
    private readonly logger: Logger,
    options: ReceiptOutboxOptions = {},
  ) {
    this.sweepIntervalMs = options.sweepIntervalMs ?? 5_000;
    this.minAgeMs = options.minAgeMs ?? 5_000;
    this.batch = options.batch ?? 500;
  }

  /** After the ack's commit: store the receipts on their senders' databases, then drop their rows here. */
  forward(owed: OwedReceipt[]): void {
    void this.deliver(owed).catch((err: unknown) => {
      this.stats.failures += 1;
      // They stay in the outbox; the sweep forwards them once the sender's database answers.
      this.logger.warn({ err, receipts: owed.length }, "delivery receipts for another database not forwarded yet; the outbox sweep retries");
    });
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.sweep()
        .catch((err: unknown) => {
          this.stats.failures += 1;
          this.logger.warn({ err }, "receipt outbox sweep failed; next sweep retries");
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

  /** Forwards every outbox row older than `minAgeMs`, a batch at a time; returns how many. */
  async sweep(): Promise<number> {
    let total = 0;
    for (let after = "0"; !this.stopped; ) {
      const rows = await this.sql<
        { id: string; to_account_id: string; to_device_id: number; from_account_id: string; from_device_id: number; message_id: string }[]
      >`
        select id, to_account_id, to_device_id, from_account_id, from_device_id, message_id
        from receipt_outbox
        where id > ${after} and created_at <= now() - make_interval(secs => ${this.minAgeMs / 1000})
        order by id
        limit ${this.batch}`;
      if (rows.length === 0) break;
      await this.deliver(
        rows.map((r) => ({
          outboxId: String(r.id),
          to: { accountId: r.to_account_id, deviceId: r.to_device_id },
          from: { accountId: r.from_account_id, deviceId: r.from_device_id },
          messageId: r.message_id,
        })),
      );
      total += rows.length;
      this.stats.swept += rows.length;
      after = String(rows[rows.length - 1]!.id);
      if (rows.length < this.batch) break;
    }
    return total;
  }

  private async deliver(owed: OwedReceipt[]): Promise<void> {
    await this.writer.receipts(owed);
    await this.sql`delete from receipt_outbox where id = any(${this.sql.array(owed.map((r) => r.outboxId))}::int8[])`;
    this.stats.forwarded += owed.length;
  }
}
