/**
 * A database a sample is seeded into: the messenger (messenger.ts) and the
 * Facebook side (facebook.ts, `facebookProfilesOfShard` for the same shards and
 * address books), so the two services see one consistent world. The orchestrator
 * (seed.ts) only knows this interface; every target gets the same batches.
 */
import type { SeedUser } from "../sample";

/** Rows a target inserted, by table name. */
export type TableCounts = Record<string, number>;

export interface SeedTarget {
  /** Short name, used in reports and as the key of the target's meta.json section. */
  readonly name: string;
  /** Tables in report order (every key `seedBatch` may return). */
  readonly tables: readonly string[];
  /** The table with one row per user: users of a batch the first target did not grow are "skipped". */
  readonly userTable: string;
  /** Migrations, shared key material, anything done once before the batches. */
  prepare(): Promise<void>;
  /**
   * Inserts one batch of users idempotently (rows that exist are left alone) and
   * returns the rows it actually added. Called concurrently, up to the run's
   * concurrency; each call is one transaction.
   */
  seedBatch(batch: readonly SeedUser[]): Promise<TableCounts>;
  /** Seconds spent per step, summed over batches (batches overlap, so sums may exceed wall time). */
  timings(): Record<string, number>;
  /** The target's section of meta.json (e.g. `{ databaseName }`). */
  fixtureMeta(): Record<string, unknown>;
  close(): Promise<void>;
}
