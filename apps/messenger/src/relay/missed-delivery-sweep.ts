/**
 * The database fallback of the bus between nodes. Every `intervalMs`, the sweep
 * looks at the envelopes committed during the interval before last (so each one
 * has had at least one full interval to be delivered and acknowledged) and wakes
 * the local streams of their recipients that are still queued. This is what
 * delivers an envelope whose wake-up never reached this node: NATS down or
 * restarting, a message lost on the way, or the writing node killed between its
 * commit and its publish. Each id range is looked at once; the queue writer makes
 * ids visible in increasing order, so no envelope can appear later in a range
 * already looked at.
 */
import type postgres from "postgres";
import type { Logger } from "../log";
import { newestEnvelopeId, recipientsOfQueuedBetween } from "../storage/undelivered";
import type { DeviceAddress } from "./bus";

export interface SweptBus {
  holds(device: DeviceAddress): boolean;
  resync(device: DeviceAddress): void;
}

export class MissedDeliverySweep {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Ids up to `settled` were looked at; ids in (settled, pending] get looked at next. */
  private settled = "0";
  private pending = "0";
  readonly stats = { sweeps: 0, woken: 0 };

  constructor(
    private readonly sql: postgres.Sql,
    private readonly bus: SweptBus,
    private readonly logger: Logger,
    private readonly intervalMs = 5_000,
  ) {}

  async start(): Promise<void> {
    // Envelopes already queued at start-up reach their streams through the backlog read.
    this.settled = this.pending = await newestEnvelopeId(this.sql);
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweep()
        .then(() => undefined)
        .catch((err: unknown) => this.logger.warn({ err }, "missed-delivery sweep failed; retrying next interval"))
        .finally(() => (this.running = null));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One pass; exported for tests that want to run it now. */
  async sweep(): Promise<number> {
    const newest = await newestEnvelopeId(this.sql);
    let woken = 0;
    if (BigInt(this.pending) > BigInt(this.settled)) {
      const recipients = await recipientsOfQueuedBetween(this.sql, this.settled, this.pending);
      for (const device of recipients) {
        if (!this.bus.holds(device)) continue;
        this.bus.resync(device);
        woken += 1;
      }
    }
    this.settled = this.pending;
    this.pending = newest;
    this.stats.sweeps += 1;
    this.stats.woken += woken;
    return woken;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
