/**
 * Verification sessions: a code sent to a phone number, checked once. Codes are
 * kept only as SHA-256("<session>:<code>"); checking is one atomic UPDATE, so two
 * concurrent attempts with the right code verify the session once.
 */
import { createHash } from "node:crypto";
import type postgres from "postgres";

export type Transport = "sms" | "voice";

/** Attempts a session allows before it is spent (a 6-digit code: 5 in 1,000,000). */
export const MAX_CODE_ATTEMPTS = 5;
/** How long a code is valid (real time). */
export const CODE_TTL_SECONDS = 600;

const codeHash = (sessionId: string, code: string) => createHash("sha256").update(`${sessionId}:${code}`).digest();

/** Opens a session for `phoneNumber` whose code is `code`; returns its id. */
export async function openVerification(
  sql: postgres.Sql | postgres.TransactionSql,
  phoneNumber: string,
  transport: Transport,
  sessionId: string,
  code: string,
): Promise<void> {
  await sql`
    insert into verification_sessions (id, phone_number, transport, code_hash, expires_at)
    values (${sessionId}, ${phoneNumber}, ${transport}, ${codeHash(sessionId, code)},
            now() + make_interval(secs => ${CODE_TTL_SECONDS}))`;
}

export type VerificationOutcome =
  | { ok: true; phoneNumber: string }
  | { ok: false; reason: "wrong-code"; attemptsLeft: number }
  | { ok: false; reason: "spent" };

/**
 * Presents a code. The right code verifies the session (once); a wrong one uses an
 * attempt. An unknown, expired, verified or exhausted session is `spent`.
 */
export async function presentCode(sql: postgres.Sql, sessionId: string, code: string): Promise<VerificationOutcome> {
  const [row] = await sql<{ phone_number: string; matched: boolean; attempts: number }[]>`
    update verification_sessions
    set attempts = attempts + 1,
        verified_at = case when code_hash = ${codeHash(sessionId, code)} then now() end
    where id = ${sessionId} and verified_at is null and expires_at > now() and attempts < ${MAX_CODE_ATTEMPTS}
    returning phone_number, verified_at is not null as matched, attempts`;
  if (!row) return { ok: false, reason: "spent" };
  if (!row.matched) return { ok: false, reason: "wrong-code", attemptsLeft: MAX_CODE_ATTEMPTS - row.attempts };
  return { ok: true, phoneNumber: row.phone_number };
}

/** Deletes sessions and simulated deliveries older than a day; returns how many sessions went. */
export async function expireVerifications(sql: postgres.Sql): Promise<number> {
  const gone = await sql`delete from verification_sessions where created_at < now() - interval '1 day'`;
  await sql`delete from simulated_phone_inbox where delivered_at < now() - interval '1 day'`;
  return gone.count;
}
