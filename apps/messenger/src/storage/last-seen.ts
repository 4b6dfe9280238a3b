/**
 * Devices' last-seen times (`devices.last_seen_at`, shown on the dashboard), written
 * in batches: one statement per database per second, however many devices connected.
 *
 * Every inbox stream used to commit its own UPDATE before it started, so a reconnect
 * waited for a durable commit of a timestamp, and a connect storm was as many commits.
 * A time is at most `intervalMs` late, and a crash loses at most that much of them:
 * a usage figure, not an acknowledged message.
 */
import type postgres from "postgres";
import type { Logger } from "../log";
import type { DeviceAddress } from "../relay/bus";

export class LastSeenRecorder {
  /** Per database pool, the newest time per device. */
  private pending = new Map<postgres.Sql, Map<string, { device: DeviceAddress; at: Date }>>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly sqlFor: (accountId: string) => postgres.Sql,
    private readonly logger: Logger,
    private readonly intervalMs = 1_000,
  ) {}

  touch(device: DeviceAddress, at: Date): void {
    const sql = this.sqlFor(device.accountId);
    let devices = this.pending.get(sql);
    if (!devices) this.pending.set(sql, (devices = new Map()));
    devices.set(`${device.accountId}/${device.deviceId}`, { device, at });
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
  }

  /** Writes what is pending; a failed batch is logged and dropped (the next connect sets the time again). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batches = this.pending;
    this.pending = new Map();
    this.flushing = this.flushing.then(() =>
      Promise.all(
        [...batches].map(([sql, devices]) => {
          const rows = [...devices.values()];
          return sql`
            update devices d set last_seen_at = t.at
            from unnest(${sql.array(rows.map((r) => r.device.accountId))}::uuid[],
                        ${sql.array(rows.map((r) => r.device.deviceId))}::int2[],
                        ${sql.array(rows.map((r) => r.at))}::timestamptz[]) as t(account_id, device_id, at)
            where d.account_id = t.account_id and d.device_id = t.device_id
              and (d.last_seen_at is null or d.last_seen_at < t.at)`.catch((err: unknown) =>
            this.logger.warn({ err, devices: rows.length }, "last-seen times not written"),
          );
        }),
      ).then(() => undefined),
    );
    return this.flushing;
  }

  /** Writes what is pending; later touches are still accepted (and written by the next flush). */
  close(): Promise<void> {
    return this.flush();
  }
}
