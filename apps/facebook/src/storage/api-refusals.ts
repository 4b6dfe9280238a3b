/**
 * Counts refused advertiser calls instead of logging each one. A refusal's
 * response is a fixed sentence of ours (no data), so the privacy audit loses
 * nothing; what it must not become is a write per call: a batch of 900
 * unauthenticated calls used to write 900 `advertiser_api_log` rows.
 *
 * Counts are summed in memory and written once a second as one multi-row upsert
 * into `advertiser_api_refusals` (per minute, path, code and caller), and on
 * close. The count is exact for a service that stops cleanly; a SIGKILL loses at
 * most the last second's refusals.
 */
import type postgres from "postgres";
import type { Logger } from "../log";

const FLUSH_MS = 1_000;

export class RefusalCounter {
  private pending = new Map<string, { minute: Date; path: string; code: string; caller: string; refusals: number }>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly sql: postgres.Sql,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /** Counts one refused call; `caller` is the advertiser id when it was known. */
  record(path: string, code: string, advertiserId: string | null): void {
    const minute = new Date(Math.floor(this.now().getTime() / 60_000) * 60_000);
    const caller = advertiserId ?? "anonymous";
    const key = `${minute.getTime()}|${path}|${code}|${caller}`;
    const entry = this.pending.get(key);
    if (entry) entry.refusals += 1;
    else this.pending.set(key, { minute, path, code, caller, refusals: 1 });
  }

  /** Writes what has been counted so far (one statement); a failed write is retried at the next flush. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = [...this.pending.values()];
      this.pending = new Map();
      try {
        // Raw: one jsonb parameter whatever the batch (a multi-row VALUES could pass
        // PostgreSQL's 65535-parameter limit under a flood of distinct callers).
        await this.sql`
          insert into advertiser_api_refusals (minute, path, code, caller, refusals)
          select minute, path, code, caller, refusals
          from jsonb_to_recordset(${this.sql.json(batch as never)}) as r(minute timestamptz, path text, code text, caller text, refusals int8)
          on conflict (minute, path, code, caller)
            do update set refusals = advertiser_api_refusals.refusals + excluded.refusals`;
      } catch (err) {
        for (const b of batch) {
          const key = `${b.minute.getTime()}|${b.path}|${b.code}|${b.caller}`;
          const entry = this.pending.get(key);
          if (entry) entry.refusals += b.refusals;
          else this.pending.set(key, b);
        }
        this.logger.warn({ err }, "could not write refusal counts; retrying");
      }
    });
    return this.flushing;
  }

  /** Stops the timer and writes the last counts. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
