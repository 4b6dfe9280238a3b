/**
 * Several messenger nodes, one simulation clock. An admin move lands on whichever
 * node took the request; it is stored (`simulation_clock`, never backwards, see
 * `saveSimClock`), and every other node follows the stored clock by reading it a few
 * times a second and adopting a later one. The database is the truth, as for the
 * queue; a follower that cannot read it keeps its own clock and tries again.
 * A move adopted here has the same effects as one made here: regulators' dates
 * crossed are handled, open streams of accounts that lost service end, and no share
 * batch checked at the old time is in flight while it moves (share/ship-check.ts).
 */
import type postgres from "postgres";
import type { SimClock } from "./clock";
import type { Logger } from "./log";
import { readSimClockState } from "./storage/clock";

export interface ClockFollowerOptions {
  /** How often the stored clock is read (default 250 ms). */
  intervalMs?: number;
  /** Called after this node's clock moved to another node's move. */
  onMoved: (now: Date) => Promise<unknown>;
  /** Runs the adoption itself, e.g. not while a share batch checked at the old time is in flight. */
  exclusive?: <T>(move: () => T) => Promise<T>;
}

export class ClockFollower {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Moves adopted from other nodes (for tests and metrics). */
  adopted = 0;

  constructor(
    private readonly sql: postgres.Sql,
    private readonly clock: SimClock,
    private readonly logger: Logger,
    private readonly options: ClockFollowerOptions,
  ) {}

  start(): void {
    const intervalMs = this.options.intervalMs ?? 250;
    this.timer = setInterval(() => {
      this.running ??= this.poll()
        .then(() => undefined)
        .finally(() => (this.running = null));
    }, intervalMs);
    this.timer.unref();
  }

  /** Reads the stored clock once and adopts it if later; returns whether this node's clock moved. */
  async poll(): Promise<boolean> {
    let state;
    try {
      state = await readSimClockState(this.sql);
    } catch (err) {
      this.logger.debug({ err }, "stored simulation clock could not be read; keeping this node's");
      return false;
    }
    if (!state) return false;
    const adopt = () => this.clock.adopt(state);
    if (!(await (this.options.exclusive ? this.options.exclusive(adopt) : adopt()))) return false;
    this.adopted += 1;
    try {
      await this.options.onMoved(this.clock.now());
    } catch (err) {
      this.logger.error({ err }, "after another node's clock move");
    }
    return true;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
