/**
 * The envelope queue (store-and-forward) and its single writer.
 *
 * Every change to `envelopes` — new messages, acknowledgements and the delivery
 * receipts they produce — goes through one `QueueWriter`, which group-commits
 * whatever arrived while the previous transaction ran. Two reasons:
 *  - throughput: one multi-row statement per batch instead of a transaction per
 *    message (the relay's hot path);
 *  - ordering: ids are handed out by one transaction at a time (and, across
 *    nodes, under one advisory lock), so for every recipient, ids become visible
 *    in increasing order. That is what makes "resume after lastEventId" safe:
 *    an envelope can never commit with an id below one already delivered.
 *
 * A call resolves only after its batch committed: an acknowledged send is durable.
 */
import postgres from "postgres";
import { isSessionLimitError } from "@handshake/db/client";
import { pipelinedTransaction, type TransactionSession } from "@handshake/db/pipelined-transaction";
import { EnvelopeType, type DeliveredEnvelope } from "@handshake/crypto/wire";
import type { Clock } from "../clock";
import type { Logger } from "../log";
import type { DeviceAddress, InboxBus } from "../relay/bus";
import { usageCount, usageUpsertOver, type UsageCount } from "./usage";

/** Undelivered envelopes are dropped after this long (as WhatsApp and Signal do). */
export const ENVELOPE_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export interface SendItem {
  sender: DeviceAddress;
  recipient: DeviceAddress;
  messageId: string;
  type: number;
  content: Buffer;
  /** The same content as the sender's base64, when the caller has it (spares encoding it again for delivery). */
  contentBase64?: string;
  category: string | null;
}

export type SendOutcome =
  | { status: "stored"; envelopeId: string; serverTimestamp: number }
  | { status: "duplicate"; envelopeId: string; serverTimestamp: number }
  | { status: "unknown-recipient" };

/**
 * The queue could not commit (PostgreSQL away, a connection lost, a lock or statement
 * timeout): the item may or may not be stored. Retrying with the same message id is
 * safe: a stored send answers `duplicate`, a repeated ack deletes nothing twice.
 */
export class QueueUnavailable extends Error {
  constructor(readonly reason: unknown) {
    super(`the message queue is unavailable (${reason instanceof Error ? reason.message : String(reason)}); retry with the same ids`);
    this.name = "QueueUnavailable";
  }
}

/** A data or integrity error (SQLSTATE classes 22, 23): this item is the problem, not the database. */
function itemAtFault(error: unknown): boolean {
  return error instanceof postgres.PostgresError && (error.code.startsWith("22") || error.code.startsWith("23"));
}

export interface AckOutcome {
  acknowledged: number;
}

interface PendingSend {
  kind: "send";
  item: SendItem;
  resolve: (outcome: SendOutcome) => void;
  reject: (error: unknown) => void;
}
interface PendingAck {
  kind: "ack";
  device: DeviceAddress;
  ids: string[];
  resolve: (outcome: AckOutcome) => void;
  reject: (error: unknown) => void;
}
/** Delivery receipts for senders on this database, produced by acks committed on another. */
interface PendingReceipts {
  kind: "receipts";
  receipts: Receipt[];
  resolve: (outcome: void) => void;
  reject: (error: unknown) => void;
}
type Pending = PendingSend | PendingAck | PendingReceipts;

/** A delivery receipt: `to` (the message's sender) learns that `from` received `messageId`. */
export interface Receipt {
  to: DeviceAddress;
  from: DeviceAddress;
  messageId: string;
}

/** Messages a sender had stored on this database, owed to home's usage counters, and their `usage_outbox` row. */
export interface OwedUsage {
  outboxId: string;
  accountId: string;
  messages: number;
  /** The simulation time they were stored at. */
  at: Date;
}

/** A receipt owed to a sender on another database, and its row in this database's `receipt_outbox`. */
export interface OwedReceipt extends Receipt {
  outboxId: string;
}

export interface QueueWriterOptions {
  maxBatch?: number;
  /**
   * The usage counters live on this database: the insert statement also counts each
   * sender's messages (`storage/usage.ts`), and this runs inside the batch's
   * transaction with the counts (the share pipeline writes usage events there).
   */
  afterStore?: (tx: TransactionSession, counts: UsageCount[], at: Date) => Promise<void>;
  /**
   * With a shard map: receipts for senders whose device is on another database are
   * written to this database's `receipt_outbox` by the ack's statement and handed to
   * `forwardReceipts` after the commit (`storage/receipt-outbox.ts` takes them there).
   * Without it (one database) every sender is here.
   */
  forwardReceipts?: (receipts: OwedReceipt[]) => void;
  /**
   * Shard databases other than home (the usage counters live there): the insert also
   * writes each sender's count of the batch into this database's `usage_outbox`, handed
   * to `forwardUsage` after the commit (`storage/usage-outbox.ts` adds it on home).
   */
  forwardUsage?: (owed: OwedUsage[]) => void;
  /**
   * The longest a batch may go unanswered (default 75 s: a lock wait and a statement at
   * PostgreSQL's session limits, and some). Past it, its callers are told the outcome is
   * unknown and the writer goes on with the next batch; see `settleWithin`.
   */
  deadlineMs?: number;
}

export class QueueWriter {
  private pending: Pending[] = [];
  private running: Promise<void> | null = null;
  private closed = false;
  private readonly maxBatch: number;
  private readonly deadlineMs: number;
  private readonly afterStore: QueueWriterOptions["afterStore"];
  private readonly options: QueueWriterOptions;
  /** Batches committed and items in them, for metrics. */
  readonly stats = { batches: 0, items: 0, stored: 0, delivered: 0, receipts: 0, abandoned: 0 };

  constructor(
    private readonly sql: postgres.Sql,
    private readonly bus: InboxBus,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: QueueWriterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 2000;
    this.deadlineMs = options.deadlineMs ?? 75_000;
    this.afterStore = options.afterStore;
    this.options = options;
  }

  send(item: SendItem): Promise<SendOutcome> {
    return new Promise((resolve, reject) => this.enqueue({ kind: "send", item, resolve, reject }));
  }

  ack(device: DeviceAddress, ids: string[]): Promise<AckOutcome> {
    if (ids.length === 0) return Promise.resolve({ acknowledged: 0 });
    return new Promise((resolve, reject) => this.enqueue({ kind: "ack", device, ids, resolve, reject }));
  }

  /** Stores receipts whose acks committed on another shard database. */
  receipts(receipts: Receipt[]): Promise<void> {
    if (receipts.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.enqueue({ kind: "receipts", receipts, resolve, reject }));
  }

  /** Lets queued work finish; later calls are refused. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running) await this.running;
  }

  private enqueue(op: Pending): void {
    if (this.closed) {
      op.reject(new Error("the message queue is shutting down"));
      return;
    }
    this.pending.push(op);
    if (!this.running) this.running = this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        await this.settleWithin(batch, this.commitIsolating(batch));
      }
    } finally {
      this.running = null;
    }
  }

  /**
   * Waits for a batch, at most `deadlineMs`. A reply that never comes (its connection
   * black-holed: the socket stays open, so postgres.js waits until TCP keep-alive gives
   * up, minutes later) must not hold every later send behind it. Past the deadline the
   * batch's callers get `QueueUnavailable` (they retry with the same ids: a send that did
   * commit answers `duplicate`, a repeated ack deletes nothing twice), its recipients are
   * woken to look for themselves, and the next batch starts. Ordering still holds: the
   * next batch takes the writer's advisory lock, which a transaction still open at
   * PostgreSQL keeps until it ends (at the latest when `idle_in_transaction_session_timeout`
   * ends its session).
   */
  private async settleWithin(batch: Pending[], work: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<"expired">((resolve) => (timer = setTimeout(resolve, this.deadlineMs, "expired")));
    const outcome = await Promise.race([work.then(() => "settled" as const), expired]);
    clearTimeout(timer);
    if (outcome === "settled") return;
    this.stats.abandoned += 1;
    this.logger.error({ items: batch.length, deadlineMs: this.deadlineMs }, "queue batch unanswered past its deadline; its callers retry");
    const refusal = new QueueUnavailable(new Error(`no answer from PostgreSQL within ${this.deadlineMs} ms`));
    for (const op of batch) {
      if (op.kind === "send") this.bus.publish(op.item.recipient, {});
      op.reject(refusal); // a later answer resolves nothing: a promise settles once
    }
    work.catch(() => {}); // still pending; it must not end as an unhandled rejection
  }

  /**
   * Commits a batch; if it fails, halves it so one bad item cannot sink the rest.
   * A failure may still have committed (the COMMIT's reply can be lost): the retried
   * halves then find their sends already accepted and answer `duplicate`, and the
   * last resort, a rejected single send, still wakes its recipient's stream.
   */
  private async commitIsolating(batch: Pending[]): Promise<void> {
    try {
      await this.commit(batch);
    } catch (error) {
      // PostgreSQL gave up waiting (a lock held by a stuck session, a statement over its
      // time): no item is at fault, and each half would wait as long again. The whole
      // batch fails at once; its callers retry with the same ids.
      if (batch.length === 1 || isSessionLimitError(error)) {
        this.logger.error({ err: error, items: batch.length }, "queue write failed");
        const refusal = itemAtFault(error) ? error : new QueueUnavailable(error);
        for (const op of batch) {
          // The commit's outcome may be unknown: the recipient's stream looks for itself.
          if (op.kind === "send") this.bus.publish(op.item.recipient, {});
          op.reject(refusal);
        }
        return;
      }
      const middle = Math.ceil(batch.length / 2);
      await this.commitIsolating(batch.slice(0, middle));
      await this.commitIsolating(batch.slice(middle));
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + ENVELOPE_TTL_MS);

    // The same (sender, message id) twice in one batch is one message.
    const sends = new Map<string, PendingSend[]>();
    const acks: PendingAck[] = [];
    const forwarded: PendingReceipts[] = [];
    for (const op of batch) {
      if (op.kind === "ack") {
        acks.push(op);
        continue;
      }
      if (op.kind === "receipts") {
        forwarded.push(op);
        continue;
      }
      const key = `${op.item.sender.accountId}/${op.item.messageId}`;
      const group = sends.get(key);
      if (group) group.push(op);
      else sends.set(key, [op]);
    }
    const unique = [...sends.values()].map((group) => group[0]!.item);

    const result = await pipelinedTransaction(this.sql, async (tx) => {
      // BEGIN, the lock and the batch's independent statements go out in one write
      // (postgres.js pipelines what is issued without awaiting): PostgreSQL runs them in
      // order, the writes only once the lock is held, and the lock is held for fewer
      // round trips. The insert also counts usage, and a delete inserts the receipts it
      // produces; only a batch that writes a usage event (afterStore) issues more before
      // COMMIT. Promise.all also takes the rejections of the statements behind a failed lock.
      //
      // The lock's statement also turns sequential scans off for this transaction: every
      // lookup these statements make (the previous envelope of a recipient, a message id
      // already accepted, a named envelope) has an index, and a plan made while a table
      // looked tiny (a new database, a drained queue: statistics lag the table by up to
      // autovacuum's minute) scanned the whole table once per row of the batch.
      // PostgreSQL plans each statement when it runs it, after this one; the setting
      // ends with the transaction, so the pool's other queries keep the default.
      const afterStore = this.afterStore;
      const forwardedReceipts = forwarded.flatMap((op) => op.receipts);
      const [, { stored, owedUsage }, ackResults, receiptRows] = await Promise.all([
        tx`select set_config('enable_seqscan', 'off', true), pg_advisory_xact_lock(hashtext('handshake-envelope-writer'))`.execute(),
        unique.length > 0
          ? insertSends(tx, unique, now, expiresAt, afterStore ? "count" : this.options.forwardUsage ? "owe" : "none").then(
              async ({ stored, today, owedUsage }) => {
                if (afterStore && stored.length > 0) await afterStore(tx, usageCounts(stored, today), now);
                return { stored, owedUsage };
              },
            )
          : { stored: [], owedUsage: [] },
        acks.length > 0 ? deleteAndReceipt(tx, acks, now, expiresAt, this.options.forwardReceipts !== undefined) : { deleted: [], receipts: [], owed: [] },
        forwardedReceipts.length > 0 ? insertReceipts(tx, forwardedReceipts, now, expiresAt) : [],
      ]);
      const storedKeys = new Set(stored.map((row) => `${row.sender_account_id}/${row.message_id}`));
      const notStored = unique.filter((item) => !storedKeys.has(`${item.sender.accountId}/${item.messageId}`));
      const duplicates = notStored.length > 0 ? await findAccepted(tx, notStored) : [];
      return { stored, owedUsage, duplicates, ackResults, receiptRows };
    });

    this.stats.batches += 1;
    this.stats.items += batch.length;
    this.countStored(result.stored.length, result.ackResults.deleted, result.ackResults.receipts.length);

    const storedByKey = new Map(result.stored.map((row) => [`${row.sender_account_id}/${row.message_id}`, row]));
    const duplicateByKey = new Map(result.duplicates.map((row) => [`${row.sender_account_id}/${row.message_id}`, row]));
    for (const [key, group] of sends) {
      const stored = storedByKey.get(key);
      const duplicate = duplicateByKey.get(key);
      group.forEach((op, index) => {
        if (stored) {
          const envelopeId = String(stored.id);
          // A second copy inside the same batch is a duplicate of the first.
          op.resolve(
            index === 0
              ? { status: "stored", envelopeId, serverTimestamp: now.getTime() }
              : { status: "duplicate", envelopeId, serverTimestamp: now.getTime() },
          );
        } else if (duplicate) {
          op.resolve({
            status: "duplicate",
            envelopeId: String(duplicate.envelope_id),
            serverTimestamp: duplicate.accepted_at.getTime(),
          });
        } else {
          op.resolve({ status: "unknown-recipient" });
        }
      });
    }
    const deletedPerAck = new Map<PendingAck, number>();
    for (const row of result.ackResults.deleted) {
      const op = acks[row.ord]!;
      deletedPerAck.set(op, (deletedPerAck.get(op) ?? 0) + 1);
    }
    for (const op of acks) op.resolve({ acknowledged: deletedPerAck.get(op) ?? 0 });
    for (const op of forwarded) op.resolve();
    if (result.ackResults.owed.length > 0) this.options.forwardReceipts?.(result.ackResults.owed);
    if (result.owedUsage.length > 0) this.options.forwardUsage?.(result.owedUsage);

    // Only now, with everything durable, tell connected recipients.
    for (const row of result.stored) {
      const { item } = sends.get(`${row.sender_account_id}/${row.message_id}`)![0]!;
      this.publish({ ...row, content: item.content }, now, item.contentBase64);
    }
    for (const row of result.ackResults.receipts) this.publish(row, now);
    for (const row of result.receiptRows) this.publish(row, now);
    // A duplicate may be the retry of a send whose commit succeeded but whose reply
    // was lost: nothing announced it then, so wake the recipient's stream now (it
    // re-reads its queue; if it already has the envelope, it finds nothing new).
    for (const [key, group] of sends) {
      if (!storedByKey.has(key) && duplicateByKey.has(key)) this.bus.publish(group[0]!.item.recipient, {});
    }
  }

  /** Messages stored, messages delivered (acknowledged; receipts acknowledged are not messages), receipts queued. */
  private countStored(stored: number, deleted: { type: number }[], receipts: number): void {
    this.stats.stored += stored;
    for (const row of deleted) if (row.type !== EnvelopeType.SERVER_DELIVERY_RECEIPT) this.stats.delivered += 1;
    this.stats.receipts += receipts;
  }

  private publish(row: InsertedRow, now: Date, contentBase64?: string): void {
    this.bus.publish(
      { accountId: row.recipient_account_id, deviceId: row.recipient_device_id },
      { envelope: toDelivered(row, now, contentBase64), previousId: row.previous_id === null ? null : String(row.previous_id) },
    );
  }
}

/** Each sender's counts as the insert's usage upsert left them (`today`: the day's count after it, per sender). */
function usageCounts(stored: { sender_account_id: string }[], today: Map<string, number>): UsageCount[] {
  const added = countPerSender(stored);
  return [...today].map(([accountId, after]) => usageCount(accountId, after, added.get(accountId) ?? 0));
}

function countPerSender(stored: { sender_account_id: string }[]): Map<string, number> {
  const perSender = new Map<string, number>();
  for (const row of stored) perSender.set(row.sender_account_id, (perSender.get(row.sender_account_id) ?? 0) + 1);
  return perSender;
}

/**
 * One `QueueWriter` per shard database, each ordering its own queue under its own
 * advisory lock (a recipient's envelopes all live on one database, so "resume
 * after lastEventId" stays exact). A send goes to the recipient's database, an ack
 * to the acknowledging device's; a receipt for a sender on another database is
 * stored there after the ack commits. With one database this is one writer.
 */
export class ShardedQueueWriter {
  constructor(
    private readonly writers: ReadonlyMap<string, QueueWriter>,
    private readonly databaseOf: (accountId: string) => string,
  ) {}

  /** Sends and acks committed over all databases, for metrics. */
  get stats(): QueueWriter["stats"] {
    const total = { batches: 0, items: 0, stored: 0, delivered: 0, receipts: 0, abandoned: 0 };
    for (const writer of this.writers.values()) {
      for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += writer.stats[key];
    }
    return total;
  }

  send(item: SendItem): Promise<SendOutcome> {
    return this.writerOf(item.recipient.accountId).send(item);
  }

  ack(device: DeviceAddress, ids: string[]): Promise<AckOutcome> {
    return this.writerOf(device.accountId).ack(device, ids);
  }

  receipts(receipts: Receipt[]): Promise<void> {
    const byDatabase = new Map<string, Receipt[]>();
    for (const receipt of receipts) {
      const name = this.databaseOf(receipt.to.accountId);
      const list = byDatabase.get(name);
      if (list) list.push(receipt);
      else byDatabase.set(name, [receipt]);
    }
    return Promise.all([...byDatabase].map(([name, list]) => this.writers.get(name)!.receipts(list))).then(() => undefined);
  }

  writer(database: string): QueueWriter | undefined {
    return this.writers.get(database);
  }

  async close(): Promise<void> {
    await Promise.all([...this.writers.values()].map((writer) => writer.close()));
  }

  private writerOf(accountId: string): QueueWriter {
    return this.writers.get(this.databaseOf(accountId))!;
  }
}

/** A queue row as the recipient's inbox stream delivers it. */
function toDelivered(row: StoredRow, serverTimestamp: Date, contentBase64?: string): DeliveredEnvelope {
  return {
    id: String(row.id),
    type: row.type as DeliveredEnvelope["type"],
    senderAccountId: row.sender_account_id,
    senderDeviceId: row.sender_device_id,
    messageId: row.message_id,
    content: contentBase64 ?? row.content.toString("base64"),
    serverTimestamp: serverTimestamp.getTime(),
    ...(row.category ? { category: row.category } : {}),
  };
}

interface StoredRow {
  id: string;
  recipient_account_id: string;
  recipient_device_id: number;
  sender_account_id: string;
  sender_device_id: number;
  message_id: string;
  type: number;
  content: Buffer;
  category: string | null;
}

/** A row just stored, with the device's newest envelope still queued below it (see `InboxNotice`). */
interface InsertedRow extends StoredRow {
  previous_id: string | null;
}

/**
 * Stores a batch of sends in one statement: the messages whose recipient device exists
 * and whose (sender, message id) was never accepted go into `envelopes` and
 * `accepted_messages`; with `usage` "count" (home) the senders' usage counters are upserted
 * too, with "owe" (another shard database) their counts are written to `usage_outbox`.
 *
 * No step joins one CTE to another: PostgreSQL cannot estimate a data-modifying CTE
 * (it assumes one row) and joins two of them with a nested loop, which made the
 * statement quadratic in the batch (a 1,500-item batch cost its database 3-6 times
 * more per message than a 100-item one; batches grow exactly when the writer falls
 * behind). So the never-accepted test is an index probe per row (`not exists`), the
 * envelope is inserted first and `accepted_messages` takes its id from its row, and
 * the usage counts come back as rows of their own (`kind = 'usage'`).
 *
 * `not exists` sees what committed before the statement began. That is enough: the
 * writer's advisory lock (taken by the statement before this one) lets one batch
 * at a time write, and the batch holds no message twice (`commit` folds them), so
 * no concurrent insert can slip in between the test and the insert. Should one
 * ever do so, the primary key of `accepted_messages` fails the statement (no
 * `on conflict do nothing`, which would leave a stored envelope without its
 * accepted row): the batch is retried in halves, and the retry sees the row.
 *
 * Unknown recipients simply do not join; the caller reports them. The content is not
 * returned: the writer has it (sending it back doubled the bytes and their parsing).
 */
async function insertSends(tx: TransactionSession, items: SendItem[], now: Date, expiresAt: Date, usage: "count" | "owe" | "none") {
  const col = <T>(pick: (item: SendItem) => T) => items.map(pick);
  const rows = await tx<
    (
      | (Omit<InsertedRow, "content"> & { kind: "stored" })
      | { kind: "usage"; sender_account_id: string; today: number }
      | { kind: "owed"; id: string; sender_account_id: string; today: number }
    )[]
  >`
    with input as (
      select * from unnest(
        ${tx.array(col((i) => i.sender.accountId))}::uuid[],
        ${tx.array(col((i) => i.sender.deviceId))}::int2[],
        ${tx.array(col((i) => i.recipient.accountId))}::uuid[],
        ${tx.array(col((i) => i.recipient.deviceId))}::int2[],
        ${tx.array(col((i) => i.messageId))}::uuid[],
        ${tx.array(col((i) => i.type))}::int2[],
        ${tx.array(col((i) => i.content))}::bytea[],
        ${tx.array(col((i) => i.category))}::text[]
      ) as t(sender_account_id, sender_device_id, recipient_account_id, recipient_device_id, message_id, type, content, category)
    ),
    valid as (
      select input.*, a.shard
      from input
      join accounts a on a.id = input.recipient_account_id
      join devices d on d.account_id = input.recipient_account_id and d.device_id = input.recipient_device_id
      where not exists (
        select 1 from accepted_messages m
        where m.sender_account_id = input.sender_account_id and m.message_id = input.message_id)
    ),
    inserted as (
      insert into envelopes (recipient_shard, recipient_account_id, recipient_device_id, sender_account_id,
                             sender_device_id, message_id, type, content, category, server_timestamp, expires_at)
      select shard, recipient_account_id, recipient_device_id, sender_account_id, sender_device_id, message_id, type,
             content, category, ${now}, ${expiresAt}
      from valid
      returning id, recipient_account_id, recipient_device_id, sender_account_id, sender_device_id, message_id, type,
                category
    ),
    accepted as (
      insert into accepted_messages (sender_account_id, message_id, recipient_account_id, envelope_id, accepted_at, category)
      select sender_account_id, message_id, recipient_account_id, id, ${now}, category
      from inserted
    ),
    stored as (${withPreviousId(tx)})
    ${
      usage === "count"
        ? tx`, usage as (${usageUpsertOver(tx, "inserted", now)})
          select 'stored' as kind, s.*, null::int4 as today from stored s
          union all
          select 'usage', null, null, null, u.account_id, null, null, null, null, null, u.today from usage u`
        : usage === "owe"
          ? tx`, owed as (
              insert into usage_outbox (sender_account_id, messages, at)
              select sender_account_id, count(*)::int4, ${now} from inserted group by 1
              returning id, sender_account_id, messages)
          select 'stored' as kind, s.*, null::int4 as today from stored s
          union all
          select 'owed', o.id, null, null, o.sender_account_id, null, null, null, null, null, o.messages from owed o`
          : tx`select 'stored' as kind, s.*, null::int4 as today from stored s`
    }`;
  const stored: Omit<InsertedRow, "content">[] = [];
  const today = new Map<string, number>();
  const owedUsage: OwedUsage[] = [];
  for (const row of rows) {
    if (row.kind === "stored") stored.push(row);
    else if (row.kind === "usage") today.set(row.sender_account_id, row.today);
    else owedUsage.push({ outboxId: String(row.id), accountId: row.sender_account_id, messages: row.today, at: now });
  }
  stored.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  return { stored, today, owedUsage };
}

/**
 * Selects the rows of the data-modifying CTE `inserted` in id order, each with
 * `previous_id`: the device's newest envelope below it, either one inserted
 * earlier in the same statement (`lag`) or one already queued (the subquery
 * sees the table as it was before this statement; one index probe per row).
 */
function withPreviousId(tx: TransactionSession) {
  return tx`
    select i.*, coalesce(
      lag(i.id) over (partition by i.recipient_account_id, i.recipient_device_id order by i.id),
      (select e.id from envelopes e
        where e.recipient_account_id = i.recipient_account_id and e.recipient_device_id = i.recipient_device_id
        order by e.id desc limit 1)
    ) as previous_id
    from inserted i
    order by i.id`;
}

async function findAccepted(tx: TransactionSession, items: SendItem[]) {
  return tx<{ sender_account_id: string; message_id: string; envelope_id: string; accepted_at: Date }[]>`
    select m.sender_account_id, m.message_id, m.envelope_id, m.accepted_at
    from accepted_messages m
    join unnest(${tx.array(items.map((i) => i.sender.accountId))}::uuid[],
                ${tx.array(items.map((i) => i.messageId))}::uuid[]) as k(sender_account_id, message_id)
      on k.sender_account_id = m.sender_account_id and k.message_id = m.message_id`;
}

async function deleteAndReceipt(
  tx: TransactionSession,
  acks: PendingAck[],
  now: Date,
  expiresAt: Date,
  outbox: boolean,
) {
  const accountIds: string[] = [];
  const deviceIds: number[] = [];
  const envelopeIds: string[] = [];
  /** Which ack named an envelope, by envelope and acknowledging device: the first to name it. */
  const ordOf = new Map<string, number>();
  acks.forEach((op, ord) => {
    for (const id of op.ids) {
      accountIds.push(op.device.accountId);
      deviceIds.push(op.device.deviceId);
      envelopeIds.push(id);
      const key = `${id}/${op.device.accountId}/${op.device.deviceId}`;
      if (!ordOf.has(key)) ordOf.set(key, ord);
    }
  });
  // A device can only delete its own envelopes: the recipient is part of the match.
  // Each named envelope is looked up on its own (a LATERAL probe of the recipient index,
  // kept from being flattened by its LIMIT) and deleted by its row address: no step
  // joins the named ids to the table as a whole. Joined (`delete … using k`), the
  // plan followed the table's statistics, and a queue that just had few live rows
  // (a new database, a drained one) got the table scanned once per named id: a
  // 1,500-id batch cost half a second of its database.
  // The receipts for the deleted messages are inserted by the same statement: for
  // senders whose device lives on this database (the join on `devices`), the others are
  // forwarded. Not `accounts`: with a shard map, home also holds every account's
  // directory row, and a receipt stored there for a sender on another database would
  // never be read from its queue, while its live notice carried an id from home's
  // sequence into that device's stream, past ids its own database had yet to hand out.
  // A receipt's previous_id is read from the table as it was before the statement, so it
  // may name an envelope this statement deletes (when both devices acked in one batch):
  // too high is safe, the stream then re-reads its queue instead of trusting the notice.
  const rows = await tx<
    ({ kind: "deleted" } & DeletedRow | { kind: "receipt" | "owed" } & Omit<InsertedRow, "content" | "category">)[]
  >`
    with k as (
      select * from unnest(${tx.array(accountIds)}::uuid[], ${tx.array(deviceIds)}::int2[], ${tx.array(envelopeIds)}::int8[])
        as k(account_id, device_id, id)
    ),
    named as (
      select t.ctid from k cross join lateral (
        select e.ctid from envelopes e
        where e.recipient_account_id = k.account_id and e.recipient_device_id = k.device_id and e.id = k.id
        limit 1) as t
    ),
    deleted as (
      delete from envelopes e
      where e.ctid = any(array(select ctid from named))
      returning e.id, e.type, e.sender_account_id, e.sender_device_id, e.message_id, e.recipient_account_id,
                e.recipient_device_id
    ),
    inserted as (
      insert into envelopes (recipient_shard, recipient_account_id, recipient_device_id, sender_account_id,
                             sender_device_id, message_id, type, content, server_timestamp, expires_at)
      select a.shard, d.sender_account_id, d.sender_device_id, d.recipient_account_id, d.recipient_device_id,
             d.message_id, ${EnvelopeType.SERVER_DELIVERY_RECEIPT}, '\\x'::bytea, ${now}, ${expiresAt}
      from deleted d
      join accounts a on a.id = d.sender_account_id
      join devices s on s.account_id = d.sender_account_id and s.device_id = d.sender_device_id
      where d.type <> ${EnvelopeType.SERVER_DELIVERY_RECEIPT}
      order by d.id
      returning id, recipient_account_id, recipient_device_id, sender_account_id, sender_device_id, message_id, type
    ),
    receipts as (${withPreviousId(tx)})${
      outbox
        ? tx`,
    owed as (
      insert into receipt_outbox (to_account_id, to_device_id, from_account_id, from_device_id, message_id)
      select d.sender_account_id, d.sender_device_id, d.recipient_account_id, d.recipient_device_id, d.message_id
      from deleted d
      where d.type <> ${EnvelopeType.SERVER_DELIVERY_RECEIPT}
        and not exists (select 1 from devices s where s.account_id = d.sender_account_id and s.device_id = d.sender_device_id)
      returning id, to_account_id, to_device_id, from_account_id, from_device_id, message_id
    )`
        : tx``
    }
    select 'deleted' as kind, d.id, d.type, d.sender_account_id, d.sender_device_id, d.message_id,
           d.recipient_account_id, d.recipient_device_id, null::int8 as previous_id
    from deleted d
    union all
    select 'receipt', r.id, r.type, r.sender_account_id, r.sender_device_id, r.message_id,
           r.recipient_account_id, r.recipient_device_id, r.previous_id
    from receipts r${
      outbox
        ? tx`
    union all
    select 'owed', o.id, ${EnvelopeType.SERVER_DELIVERY_RECEIPT}::int2, o.from_account_id, o.from_device_id, o.message_id,
           o.to_account_id, o.to_device_id, null
    from owed o`
        : tx``
    }`;

  const deleted: (DeletedRow & { ord: number })[] = [];
  const receipts: InsertedRow[] = [];
  // Senders elsewhere (a shard map): owed in this database's outbox, stored on theirs after the commit.
  const owed: OwedReceipt[] = [];
  for (const row of rows) {
    if (row.kind === "deleted") {
      const ord = ordOf.get(`${row.id}/${row.recipient_account_id}/${row.recipient_device_id}`);
      if (ord === undefined) throw new Error(`deleted envelope ${row.id} was named by no ack of this batch`);
      deleted.push({ ...row, ord });
    } else if (row.kind === "receipt") {
      receipts.push({ ...row, content: EMPTY, category: null });
    } else {
      // As a receipt envelope reads: its sender is the device that acknowledged, its recipient the message's sender.
      owed.push({
        outboxId: String(row.id),
        to: { accountId: row.recipient_account_id, deviceId: row.recipient_device_id },
        from: { accountId: row.sender_account_id, deviceId: row.sender_device_id },
        messageId: row.message_id,
      });
    }
  }
  receipts.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  return { deleted, receipts, owed };
}

const EMPTY = Buffer.alloc(0);

/** An envelope an ack deleted. */
interface DeletedRow {
  id: string;
  type: number;
  sender_account_id: string;
  sender_device_id: number;
  message_id: string;
  recipient_account_id: string;
  recipient_device_id: number;
}

/**
 * Queues delivery receipts (type 5, empty content) forwarded from another database's
 * outbox, for senders on this one. Each is stored once: `accepted_receipts` remembers
 * it, so a second forward of the same receipt (its outbox row outlived a forward that
 * committed here: a node killed in between, a lost reply) stores nothing. The writer's
 * advisory lock lets one batch at a time write, and the batch is made distinct first.
 */
async function insertReceipts(tx: TransactionSession, receipts: Receipt[], now: Date, expiresAt: Date) {
  return tx<InsertedRow[]>`
    with fresh as (
      insert into accepted_receipts (to_account_id, message_id, from_account_id, from_device_id, to_device_id, accepted_at)
      select distinct on (to_account_id, message_id, from_account_id, from_device_id)
             to_account_id, message_id, from_account_id, from_device_id, to_device_id, ${now}::timestamptz
      from unnest(${tx.array(receipts.map((r) => r.to.accountId))}::uuid[],
                  ${tx.array(receipts.map((r) => r.to.deviceId))}::int2[],
                  ${tx.array(receipts.map((r) => r.from.accountId))}::uuid[],
                  ${tx.array(receipts.map((r) => r.from.deviceId))}::int2[],
                  ${tx.array(receipts.map((r) => r.messageId))}::uuid[])
        as r(to_account_id, to_device_id, from_account_id, from_device_id, message_id)
      on conflict do nothing
      returning to_account_id, to_device_id, from_account_id, from_device_id, message_id
    ),
    inserted as (
      insert into envelopes (recipient_shard, recipient_account_id, recipient_device_id, sender_account_id,
                             sender_device_id, message_id, type, content, server_timestamp, expires_at)
      select a.shard, f.to_account_id, f.to_device_id, f.from_account_id, f.from_device_id, f.message_id,
             ${EnvelopeType.SERVER_DELIVERY_RECEIPT}, '\\x'::bytea, ${now}, ${expiresAt}
      from fresh f
      join accounts a on a.id = f.to_account_id
      join devices d on d.account_id = f.to_account_id and d.device_id = f.to_device_id
      returning id, recipient_account_id, recipient_device_id, sender_account_id, sender_device_id, message_id, type,
                content, category
    )
    ${withPreviousId(tx)}`;
}

/** Reads a device's queue after `afterId`, oldest first. */
export async function readInbox(
  sql: postgres.Sql,
  device: DeviceAddress,
  afterId: string,
  limit: number,
): Promise<DeliveredEnvelope[]> {
  const rows = await sql<(StoredRow & { server_timestamp: Date })[]>`
    select id, recipient_account_id, recipient_device_id, sender_account_id, sender_device_id, message_id, type,
           content, category, server_timestamp
    from envelopes
    where recipient_account_id = ${device.accountId} and recipient_device_id = ${device.deviceId} and id > ${afterId}
    order by id
    limit ${limit}`;
  return rows.map((row) => toDelivered(row, row.server_timestamp));
}

/**
 * Deletes envelopes past their 30 days, and the ids kept to recognise repeats (accepted
 * messages, receipts from other databases, usage rows counted from other databases)
 * older than that; returns counts.
 */
export async function expireOld(sql: postgres.Sql, now: Date, batchSize = 10_000) {
  const horizon = new Date(now.getTime() - ENVELOPE_TTL_MS);
  const envelopes = await deleteInBatches(batchSize, () => sql`
    delete from envelopes where id in (
      select id from envelopes where expires_at <= ${now} limit ${batchSize})
    returning 1`);
  const acceptedMessages = await deleteInBatches(batchSize, () => sql`
    delete from accepted_messages where (sender_account_id, message_id) in (
      select sender_account_id, message_id from accepted_messages where accepted_at <= ${horizon} limit ${batchSize})
    returning 1`);
  const acceptedReceipts = await deleteInBatches(batchSize, () => sql`
    delete from accepted_receipts where (to_account_id, message_id, from_account_id, from_device_id) in (
      select to_account_id, message_id, from_account_id, from_device_id from accepted_receipts
      where accepted_at <= ${horizon} limit ${batchSize})
    returning 1`);
  // Wall-clock time, as the rows were stamped (by the delivery, not the simulation).
  const appliedUsage = await deleteInBatches(batchSize, () => sql`
    delete from applied_usage where (source, outbox_id) in (
      select source, outbox_id from applied_usage where applied_at <= now() - interval '30 days' limit ${batchSize})
    returning 1`);
  return { envelopes, accepted: acceptedMessages + acceptedReceipts + appliedUsage };
}

/** Runs a delete of at most `batchSize` rows until one deletes fewer; returns the rows deleted. */
async function deleteInBatches(batchSize: number, deleteBatch: () => PromiseLike<readonly unknown[]>): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await deleteBatch();
    total += rows.length;
    if (rows.length < batchSize) return total;
  }
}
