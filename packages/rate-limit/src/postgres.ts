/**
 * Token buckets in PostgreSQL, shared by every node of a service and kept across
 * restarts. One statement per decision (`insert … on conflict do update …
 * returning`): the row lock serialises concurrent takes on one bucket, so two
 * nodes never both spend the last token.
 *
 * The service's database needs this table (each service's drizzle schema has it):
 *
 *   create table rate_limit_buckets (
 *     id text primary key,            -- "<limit name>:<key>"
 *     tokens double precision not null,
 *     updated_ms double precision not null,  -- wall-clock ms of the last take
 *     full_ms double precision not null,     -- when the bucket will be full again (for the sweep)
 *     allowed boolean not null               -- the last take's decision
 *   );
 *
 * Time is the wall clock of the node deciding (injectable); a node whose clock runs
 * behind refills nothing rather than going back in time.
 */
import type postgres from "postgres";
import { retryAfterMs, type Decision, type TokenBucketLimit } from "./token-bucket";

type Sql = postgres.Sql | postgres.TransactionSql;

export class PostgresTokenBuckets {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Takes `cost` tokens from the bucket `id`, atomically across nodes. */
  async take(id: string, limit: TokenBucketLimit, cost = 1): Promise<Decision> {
    const now = this.now();
    const { capacity, refillPerSecond: refill } = limit;
    const sql = this.sql;
    // In DO UPDATE every `b.*` is the row before this take, so the fragments agree.
    const refilled = () => sql`least(${capacity}::float8, b.tokens + greatest(0, ${now}::float8 - b.updated_ms) / 1000 * ${refill}::float8)`;
    const after = () => sql`case when ${refilled()} >= ${cost}::float8 then ${refilled()} - ${cost}::float8 else ${refilled()} end`;
    const [row] = await sql<{ tokens: number; allowed: boolean }[]>`
      insert into rate_limit_buckets as b (id, tokens, updated_ms, full_ms, allowed)
      values (${id}, ${capacity}::float8 - least(${cost}::float8, ${capacity}::float8), ${now}::float8,
              ${now}::float8 + least(${cost}::float8, ${capacity}::float8) / ${refill}::float8 * 1000, ${cost}::float8 <= ${capacity}::float8)
      on conflict (id) do update set
        tokens = ${after()},
        allowed = ${refilled()} >= ${cost}::float8,
        updated_ms = greatest(b.updated_ms, ${now}::float8),
        full_ms = greatest(b.updated_ms, ${now}::float8) + (${capacity}::float8 - ${after()}) / ${refill}::float8 * 1000
      returning b.tokens, b.allowed`;
    const tokens = row!.tokens;
    return row!.allowed ? { allowed: true, remaining: tokens, retryAfterMs: 0 } : { allowed: false, remaining: tokens, retryAfterMs: retryAfterMs(tokens, limit, cost) };
  }

  /** Deletes buckets that are full again (they carry no information); returns how many went. */
  async sweep(): Promise<number> {
    const rows = await this.sql`delete from rate_limit_buckets where full_ms <= ${this.now()}::float8`;
    return rows.count;
  }
}
