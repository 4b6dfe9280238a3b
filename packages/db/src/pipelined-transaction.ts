/**
 * A transaction whose BEGIN travels with its first statements.
 *
 * postgres.js's `sql.begin` sends BEGIN and waits for its answer before it runs the
 * callback, so a transaction of n pipelined writes costs n + 2 round trips. On a busy
 * group-commit path (the messenger's queue writer commits back to back) each round
 * trip is a socket write and a wake-up on both sides; on the 2-core build machine a
 * loopback write that wakes PostgreSQL costs ~0.1–0.2 ms of CPU.
 *
 * Here the transaction runs on a reserved connection: BEGIN is issued without waiting,
 * and whatever the callback issues before its first `await` goes out in the same write.
 * PostgreSQL runs them in order, so they run inside the transaction. Each statement is
 * its own extended-protocol exchange (postgres.js ends each with Sync), so if BEGIN or
 * any statement fails, the later ones fail on their own (25P02) and the callback sees
 * the first error; ROLLBACK then ends the transaction and the connection goes back to
 * the pool. A connection lost mid-way rejects everything issued on it (the postgres.js
 * patch refuses writes to a reserved connection that closed).
 *
 * Savepoints and two-phase commit are not offered: the callback gets a plain session.
 */
import type postgres from "postgres";

/**
 * A session inside a transaction: `sql.begin`'s `TransactionSql`, or the reserved
 * connection a pipelined transaction runs on. Code that must run inside one (and may
 * be given either) takes this; the name says what the type cannot check.
 */
export type TransactionSession = postgres.TransactionSql | postgres.ReservedSql;

export async function pipelinedTransaction<T>(sql: postgres.Sql, fn: (tx: TransactionSession) => Promise<T>): Promise<T> {
  const reserved = await sql.reserve();
  try {
    let result: T;
    try {
      // BEGIN first, then the callback's statements behind it in the same write.
      const [, value] = await Promise.all([reserved`begin`.execute(), fn(reserved)]);
      result = value;
    } catch (error) {
      // Ends the transaction (also after a failed BEGIN: ROLLBACK outside one is a warning).
      // On a lost connection it fails too; the connection is gone with its transaction.
      await reserved`rollback`.catch(() => {});
      throw error;
    }
    await reserved`commit`;
    return result;
  } finally {
    reserved.release();
  }
}
