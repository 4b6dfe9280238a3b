/**
 * Delivery receipts owed to senders on another database of the shard map
 * (`cross-database-outbox.ts` for how an outbox is forwarded and swept).
 *
 * An ack deletes the acknowledged envelopes on the acknowledging device's database.
 * A sender whose device is on that database gets its receipt in the same statement;
 * for a sender elsewhere, the statement writes the receipt into that database's
 * `receipt_outbox` instead (`deleteAndReceipt` in `queue.ts`). Delivering it stores it
 * on the sender's database through its queue writer, once however often it arrives
 * (`accepted_receipts`, see `insertReceipts`).
 */
import type postgres from "postgres";
import type { Logger } from "../log";
import { CrossDatabaseOutbox, type OutboxOptions } from "./cross-database-outbox";
import type { OwedReceipt, ShardedQueueWriter } from "./queue";

export type ReceiptOutbox = CrossDatabaseOutbox<OwedReceipt, ReceiptRow>;

interface ReceiptRow {
  id: string;
  to_account_id: string;
  to_device_id: number;
  from_account_id: string;
  from_device_id: number;
  message_id: string;
}

export function receiptOutbox(sql: postgres.Sql, writer: ShardedQueueWriter, logger: Logger, options?: OutboxOptions): ReceiptOutbox {
  return new CrossDatabaseOutbox<OwedReceipt, ReceiptRow>(
    sql,
    {
      table: "receipt_outbox",
      what: "delivery receipts for another database",
      fromRow: (r) => ({
        outboxId: String(r.id),
        to: { accountId: r.to_account_id, deviceId: r.to_device_id },
        from: { accountId: r.from_account_id, deviceId: r.from_device_id },
        messageId: r.message_id,
      }),
      deliver: (owed) => writer.receipts(owed),
    },
    logger,
    options,
  );
}
