/**
 * Delivers spam signals to the messenger (`abuse.report`, service token), from
 * the `spam_signals` table, retrying with backoff until delivered: a signal is
 * durable before anyone is told about it.
 */
import type postgres from "postgres";
import type { Logger } from "../log";

export class SpamNotifier {
  private running: Promise<void> | null = null;
  private again = false;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly sql: postgres.Sql,
    private readonly messengerUrl: string,
    private readonly serviceToken: string,
    private readonly logger: Logger,
  ) {}

  /** Deliver whatever is pending (coalesces concurrent calls). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.deliver().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.idle();
  }

  private async deliver(): Promise<void> {
    const pending = await this.sql<{ id: number; whatsapp_account_id: string; action: string; reason: string }[]>`
      select id, whatsapp_account_id, action, reason from spam_signals where delivered_at is null order by id limit 100`;
    for (const signal of pending) {
      try {
        const response = await fetch(`${this.messengerUrl}/abuse.report`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-service-token": this.serviceToken },
          body: JSON.stringify({ accountId: signal.whatsapp_account_id, action: signal.action, reason: signal.reason }),
          signal: AbortSignal.timeout(5_000),
        });
        if (!response.ok) throw new Error(`messenger answered ${response.status}`);
        await this.sql`update spam_signals set delivered_at = now() where id = ${signal.id}`;
        this.failures = 0;
      } catch (error) {
        this.failures += 1;
        const delay = Math.random() * Math.min(30_000, 200 * 2 ** Math.min(this.failures, 10));
        this.logger.warn({ err: error instanceof Error ? error.message : String(error), retryInMs: Math.round(delay) }, "spam signal not delivered");
        this.timer = setTimeout(() => this.kick(), delay);
        this.timer.unref();
        return;
      }
    }
  }
}
