/**
 * Ships the share outbox to the Facebook-side ingest (a typed tRPC client of
 * its `ingest.batch`), in order, in batches.
 *
 * While Facebook is unreachable it retries with exponential backoff and full
 * jitter, but the backoff never outlives the outage: while waiting it probes
 * `ingest.ready` every `probeIntervalMs` (sooner when new events are committed),
 * and the first probe that answers ends the wait. Catch-up after Facebook
 * returns therefore starts within one probe interval, however long the outage.
 * Acknowledged events are marked shipped. Nothing is lost when either side
 * restarts or a reply is lost (the outbox is durable; an event is marked only
 * after ingest acknowledged it) and nothing is applied twice (ingest is
 * idempotent by event id and ordered by the account's sequence). One shipper per
 * deployment: several would only send duplicates, which ingest ignores.
 */
import { createTRPCClient, httpLink, type TRPCClient } from "@trpc/client";
import { drizzleOn } from "@handshake/db/client";
import { shareOutbox } from "@handshake/db/messenger-schema";
import { and, asc, count, eq, isNull, lte, max, min, sql as q } from "drizzle-orm";
import type postgres from "postgres";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { injectTraceContext } from "@handshake/observability";
import type { FacebookRouter } from "@handshake/api-types";
import { CONSENT_PROPAGATION_MS, type ShareEvent } from "@handshake/consent";
import { SHARE_OUTBOX_CHANNEL } from "./outbox";
import type { ShipCheck } from "./ship-check";
import type { Logger } from "../log";

/** Sent with each batch: when its oldest event entered the outbox (ms since epoch), so ingest can measure the lag. */
export const ENQUEUED_AT_HEADER = "x-share-enqueued-at";

/**
 * Looked up at each use, not once at import: a tracer taken before the provider is
 * registered stays a no-op when the API is loaded twice (as under vitest).
 */
const tracer = () => trace.getTracer("handshake-messenger");

export interface ShipperOptions {
  /** Facebook's tRPC base URL, e.g. http://127.0.0.1:4200/trpc */
  url: string;
  serviceToken: string;
  batchSize?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often to look for events anyway (a missed notification is only a delay). */
  pollMs?: number;
  requestTimeoutMs?: number;
  /** While backing off after a failed send, how often Facebook is probed (default 1 s). */
  probeIntervalMs?: number;
  /** Jitter source in [0, 1) (tests make it deterministic). */
  random?: () => number;
}

export interface ShipperStatus {
  state: "idle" | "shipping" | "backing-off" | "stopped";
  pending: number;
  /** Age of the oldest unshipped event (wall clock), 0 when none. */
  lagMs: number;
  shipped: number;
  consecutiveFailures: number;
  lastError: string | null;
  /** While backing off: when the next attempt is due at the latest (a probe may bring it forward). */
  retryInMs: number | null;
}

const outboxColumns = {
  id: shareOutbox.id,
  eventId: shareOutbox.eventId,
  accountId: shareOutbox.accountId,
  sequence: shareOutbox.sequence,
  kind: shareOutbox.kind,
  occurredAt: shareOutbox.occurredAt,
  payload: shareOutbox.payload,
  createdAt: shareOutbox.createdAt,
};
type OutboxRow = Pick<typeof shareOutbox.$inferSelect, keyof typeof outboxColumns>;

/** Why a clock move went ahead while consent changes were still unshipped (see `afterConsentShipped`). */
export type OutranReason = "timeout" | "facebook-unreachable" | "not-shipping";

export class ShareShipper {
  private state: ShipperStatus["state"] = "idle";
  private shipped = 0;
  private failures = 0;
  private failuresTotal = 0;
  private lastError: string | null = null;
  private wake: (() => void) | null = null;
  private idle = false;
  private listening: postgres.ListenMeta | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private readonly batchSize: number;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private readonly probeInterval: number;
  private readonly random: () => number;
  private readonly facebook: TRPCClient<FacebookRouter>;
  private retryAt: number | null = null;
  /** Serialises a batch's check and send with clock moves (see exclusive). */
  private gate: Promise<unknown> = Promise.resolve();
  /** Set by a nudge while backing off: probe now rather than at the next interval. */
  private probeSoon = false;
  /** Woken when a batch is acknowledged or shipping fails (see afterConsentShipped). */
  private readonly progressWaiters = new Set<() => void>();

  constructor(
    private readonly sql: postgres.Sql,
    private readonly options: ShipperOptions,
    private readonly logger: Logger,
    /** Narrows each batch to what may leave at the clock's now (see ship-check.ts); none in bare tests. */
    private readonly check: ShipCheck | null = null,
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.minBackoff = options.minBackoffMs ?? 250;
    this.maxBackoff = options.maxBackoffMs ?? 30_000;
    this.probeInterval = options.probeIntervalMs ?? 1_000;
    this.random = options.random ?? Math.random;
    this.facebook = createTRPCClient<FacebookRouter>({
      links: [
        httpLink({
          url: options.url,
          // The active span's W3C traceparent (tracing on), and the batch's outbox age.
          headers: ({ op }) => {
            const enqueuedAt = (op.context as { enqueuedAt?: number }).enqueuedAt;
            return injectTraceContext({
              authorization: `Bearer ${options.serviceToken}`,
              ...(enqueuedAt === undefined ? {} : { [ENQUEUED_AT_HEADER]: String(enqueuedAt) }),
            });
          },
        }),
      ],
    });
  }

  /** Starts shipping; new events wake it through LISTEN `share_outbox` (sent on commit). */
  async start(): Promise<void> {
    this.stopping = false;
    this.listening ??= await this.sql.listen(SHARE_OUTBOX_CHANNEL, () => this.nudge());
    this.loop ??= this.run();
  }

  /**
   * New events are committed: ship now rather than at the next poll. While
   * backing off, probe Facebook sooner (at most once per `minBackoffMs`) rather
   * than send blindly: a stream of commits must not turn into a stream of retries.
   */
  nudge(): void {
    if (this.idle) this.wake?.();
    else if (this.state === "backing-off") {
      this.probeSoon = true;
      this.wake?.();
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.listening?.unlisten();
    this.listening = null;
    this.wake?.();
    await this.loop;
    this.loop = null;
    this.state = "stopped";
  }

  async status(): Promise<ShipperStatus> {
    const [row] = await drizzleOn(this.sql)
      .select({ pending: count(), oldest: min(shareOutbox.createdAt) })
      .from(shareOutbox)
      .where(isNull(shareOutbox.shippedAt));
    return {
      state: this.state,
      pending: row?.pending ?? 0,
      lagMs: row?.oldest ? Math.max(0, Date.now() - row.oldest.getTime()) : 0,
      shipped: this.shipped,
      consecutiveFailures: this.failures,
      lastError: this.lastError,
      retryInMs: this.retryAt === null ? null : Math.max(0, this.retryAt - Date.now()),
    };
  }

  /** Running counts for metrics: events acknowledged, failed attempts (ever). */
  get stats(): { shipped: number; failures: number } {
    return { shipped: this.shipped, failures: this.failuresTotal };
  }

  /** Resolves once nothing is pending (tests, shutdown). */
  async drained(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { pending } = await this.status();
      if (pending === 0) return;
      if (Date.now() > deadline) throw new Error(`share outbox still has ${pending} events after ${timeoutMs} ms`);
      this.nudge();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let batch: OutboxRow[];
      try {
        batch = await drizzleOn(this.sql)
          .select(outboxColumns)
          .from(shareOutbox)
          .where(isNull(shareOutbox.shippedAt))
          .orderBy(asc(shareOutbox.id))
          .limit(this.batchSize);
      } catch (error) {
        // Our own database: probing Facebook would say nothing about it.
        await this.backoff(error, false);
        continue;
      }
      if (batch.length === 0) {
        this.state = "idle";
        this.idle = true;
        await this.sleep(this.options.pollMs ?? 500);
        this.idle = false;
        continue;
      }
      this.state = "shipping";
      try {
        await this.exclusive(() => this.checkAndShip(batch));
        this.shipped += batch.length;
        this.failures = 0;
        this.lastError = null;
        this.progressed();
      } catch (error) {
        await this.backoff(error, true);
      }
    }
  }

  /**
   * Runs `fn` while no batch is between its ship check and its acknowledgement, and
   * keeps the next batch from starting meanwhile. Clock moves run in it (admin
   * `setClock`/`advanceClock`): a batch checked before a regulator's date is never
   * ingested after it. Waits at most one request timeout (a send in flight).
   */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.gate.then(fn, fn);
    this.gate = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs `move` (a clock move) once every consent change recorded so far has reached
   * Facebook, so simulated time never jumps past an opt-out Facebook has not received
   * (packages/consent `CONSENT_PROPAGATION_MS`). Waits outside the gate (the batches
   * it waits for need it), then checks again inside it, where no batch is in flight:
   * a change recorded while waiting is waited for too. Moves anyway, and says why,
   * after `timeoutMs` (real time), while Facebook is unreachable (the shipper is
   * backing off: waiting cannot help, and a scenario with Facebook down moves the
   * clock on purpose), or when this shipper is not running.
   */
  async afterConsentShipped<T>(
    move: () => T,
    timeoutMs = CONSENT_PROPAGATION_MS,
  ): Promise<{ result: T; outran: OutranReason | null }> {
    const deadline = Date.now() + timeoutMs;
    const giveUp = (): OutranReason | null =>
      !this.loop || this.stopping ? "not-shipping" : this.state === "backing-off" ? "facebook-unreachable" : Date.now() >= deadline ? "timeout" : null;
    for (;;) {
      let through = giveUp() ? null : await this.unshippedConsent();
      while (through !== null && !giveUp()) {
        this.nudge();
        await this.nextProgress(Math.min(100, Math.max(1, deadline - Date.now())));
        through = await this.unshippedConsent(through);
      }
      const done = await this.exclusive(async () => {
        const outran = giveUp();
        const unshipped = await this.unshippedConsent();
        if (unshipped !== null && outran === null) return null;
        return { result: move(), outran: unshipped === null ? null : outran };
      });
      if (done) return done;
    }
  }

  /** The largest outbox id of an unshipped consent snapshot (at most `through`), null when there is none. */
  private async unshippedConsent(through?: number): Promise<number | null> {
    const [row] = await drizzleOn(this.sql)
      .select({ id: max(shareOutbox.id) })
      .from(shareOutbox)
      .where(and(isNull(shareOutbox.shippedAt), eq(shareOutbox.kind, "consent"), through === undefined ? undefined : lte(shareOutbox.id, through)));
    return row?.id ?? null;
  }

  private progressed(): void {
    for (const wake of this.progressWaiters) wake();
  }

  /** Resolves at the next acknowledged batch or failed send, or after `ms`. */
  private nextProgress(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.progressWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.progressWaiters.add(wake);
    });
  }

  /**
   * Checked on every attempt, retries included: a batch that waited in the outbox
   * through a regulator's date leaves with the purposes allowed when it leaves.
   */
  private async checkAndShip(batch: OutboxRow[]): Promise<void> {
    await this.check?.narrow(this.sql, batch, this.options.requestTimeoutMs ?? 10_000);
    await this.shipTraced(batch);
  }

  /** Sends a batch and marks it shipped, in one span (`share.ship`) that the ingest call continues. */
  private shipTraced(batch: OutboxRow[]): Promise<void> {
    return tracer().startActiveSpan(
      "share.ship",
      { attributes: { "share.events": batch.length, "share.first_outbox_id": batch[0]!.id } },
      async (span) => {
        try {
          await tracer().startActiveSpan("trpc ingest.batch", { kind: SpanKind.CLIENT, attributes: { "rpc.system": "trpc", "rpc.method": "ingest.batch" } }, async (call) => {
            try {
              await this.send(batch);
            } catch (error) {
              call.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
              throw error;
            } finally {
              call.end();
            }
          });
          await drizzleOn(this.sql)
            .update(shareOutbox)
            .set({ shippedAt: q`now()` })
            .where(q`${shareOutbox.id} = any(${q.param(batch.map((r) => r.id))}::int8[])`);
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  private async send(batch: OutboxRow[]): Promise<void> {
    const events: ShareEvent[] = batch.map((row) => ({
      eventId: row.eventId,
      sequence: row.sequence,
      whatsappAccountId: row.accountId,
      kind: row.kind,
      occurredAt: row.occurredAt.toISOString(),
      // Written by enqueueSnapshots as `{ fields }`.
      fields: (row.payload as { fields: ShareEvent["fields"] }).fields,
    }));
    const enqueuedAt = Math.min(...batch.map((row) => row.createdAt.getTime()));
    await this.facebook.ingest.batch.mutate(
      { events },
      { signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000), context: { enqueuedAt } },
    );
  }

  /** Does Facebook's ingest answer (service credential accepted, its database up)? */
  private async probe(): Promise<boolean> {
    try {
      await this.facebook.ingest.ready.query(undefined, { signal: AbortSignal.timeout(Math.min(this.options.requestTimeoutMs ?? 10_000, 2_000)) });
      return true;
    } catch {
      return false;
    }
  }

  private async backoff(error: unknown, probe: boolean): Promise<void> {
    this.failures += 1;
    this.failuresTotal += 1;
    this.lastError = error instanceof Error ? error.message : String(error);
    this.state = "backing-off";
    this.progressed();
    // Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): spreads retries of many senders.
    const ceiling = Math.min(this.maxBackoff, this.minBackoff * 2 ** Math.min(this.failures - 1, 16));
    const delay = this.random() * ceiling;
    if (this.failures === 1 || this.failures % 10 === 0) {
      this.logger.warn({ failures: this.failures, retryInMs: Math.round(delay), err: this.lastError }, "share shipping failed");
    }
    const deadline = Date.now() + delay;
    this.retryAt = deadline;
    try {
      if (!probe) {
        await this.sleep(delay);
        return;
      }
      let lastProbe = Date.now();
      while (!this.stopping) {
        const left = deadline - Date.now();
        if (left <= 0) return;
        // A nudge brings the next probe forward, but never to more than one per minBackoff.
        const gap = this.probeSoon ? Math.min(this.minBackoff, this.probeInterval) : this.probeInterval;
        const untilProbe = Math.max(0, lastProbe + gap - Date.now());
        if (untilProbe > 0) {
          await this.sleep(Math.min(left, untilProbe));
          continue;
        }
        this.probeSoon = false;
        lastProbe = Date.now();
        if (await this.probe()) {
          if (this.failures > 1) this.logger.info({ failures: this.failures }, "facebook ingest answers again: shipping");
          return;
        }
      }
    } finally {
      this.retryAt = null;
      this.probeSoon = false;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}
