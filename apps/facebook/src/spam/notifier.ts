/**
 * Delivers spam signals to the messenger (`abuse.report` through a typed tRPC
 * client, service token), from the `spam_signals` table, in id order, page after
 * page until none is pending: a signal is durable before anyone is told about it.
 * A failure the messenger may recover from (down, timeout, 5xx) stops the round
 * and retries with backoff; a refusal for good (unknown account, bad input) is
 * recorded on the signal so it never holds back the ones behind it.
 */
import { createTRPCClient, httpLink, TRPCClientError, type TRPCClient } from "@trpc/client";
import { drizzleOn } from "@handshake/db/client";
import { spamSignals } from "@handshake/db/facebook-schema";
import { and, asc, eq, isNull, sql as q } from "drizzle-orm";
import type postgres from "postgres";
import type { MessengerRouter } from "@handshake/api-types";
import type { Logger } from "../log";

/** Signals read per query; delivery goes on page after page until none is pending. */
export const SPAM_SIGNAL_PAGE = 100;

/** Answers after which sending the same signal again cannot succeed. */
const PERMANENT = new Set(["NOT_FOUND", "BAD_REQUEST", "PARSE_ERROR", "UNPROCESSABLE_CONTENT"]);


export class SpamNotifier {
  private running: Promise<void> | null = null;
  private again = false;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly messenger: TRPCClient<MessengerRouter>;

  constructor(
    private readonly sql: postgres.Sql,
    messengerUrl: string,
    serviceToken: string,
    private readonly logger: Logger,
  ) {
    this.messenger = createTRPCClient<MessengerRouter>({
      links: [httpLink({ url: messengerUrl, headers: { "x-service-token": serviceToken } })],
    });
  }

  /** Deliver whatever is pending (coalesces concurrent calls). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.running = this.deliver()
      .catch((error: unknown) => this.retryLater(error))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves when no delivery round is running (a retry may still be scheduled). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.idle();
  }

  private async deliver(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const db = drizzleOn(this.sql);
      const pending = await db
        .select({ id: spamSignals.id, whatsappAccountId: spamSignals.whatsappAccountId, action: spamSignals.action, reason: spamSignals.reason })
        .from(spamSignals)
        .where(and(isNull(spamSignals.deliveredAt), isNull(spamSignals.refusedAt)))
        .orderBy(asc(spamSignals.id))
        .limit(SPAM_SIGNAL_PAGE);
      if (pending.length === 0) return;
      for (const signal of pending) {
        if (this.stopped) return;
        try {
          await this.messenger.abuse.report.mutate(
            { accountId: signal.whatsappAccountId, action: signal.action, reason: signal.reason },
            { signal: AbortSignal.timeout(5_000) },
          );
        } catch (error) {
          const code = error instanceof TRPCClientError ? (error.data as { code?: string } | undefined)?.code : undefined;
          if (code && PERMANENT.has(code)) {
            await db
              .update(spamSignals)
              .set({ refusedAt: q`now()`, refusal: `${code}: ${error instanceof Error ? error.message : ""}`.slice(0, 300) })
              .where(eq(spamSignals.id, signal.id));
            this.logger.warn({ signal: signal.id, code }, "spam signal refused by the messenger; not retried");
            continue;
          }
          throw error;
        }
        await db.update(spamSignals).set({ deliveredAt: q`now()` }).where(eq(spamSignals.id, signal.id));
        this.failures = 0;
      }
    }
  }

  private retryLater(error: unknown): void {
    this.failures += 1;
    const delay = Math.random() * Math.min(30_000, 200 * 2 ** Math.min(this.failures, 10));
    this.logger.warn({ err: error instanceof Error ? error.message : String(error), retryInMs: Math.round(delay) }, "spam signal not delivered");
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, delay);
    this.timer.unref();
  }
}
