/**
 * Verification sessions: a code sent to a phone number, checked once. Codes are
 * kept only as SHA-256("<session>:<code>"); checking is one atomic UPDATE, so two
 * concurrent attempts with the right code verify the session once.
 */
import { createHash } from "node:crypto";
import { drizzleOn } from "@handshake/db/client";
import { simulatedPhoneInbox, verificationSessions as sessions } from "@handshake/db/messenger-schema";
import { and, eq, gt, isNull, lt, sql as q } from "drizzle-orm";
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
  await drizzleOn(sql)
    .insert(sessions)
    .values({
      id: sessionId,
      phoneNumber,
      transport,
      codeHash: codeHash(sessionId, code),
      expiresAt: q`now() + make_interval(secs => ${CODE_TTL_SECONDS})`,
    });
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
  // One UPDATE that checks and spends: two concurrent right codes verify once.
  const [row] = await drizzleOn(sql)
    .update(sessions)
    .set({
      attempts: q`${sessions.attempts} + 1`,
      verifiedAt: q`case when ${sessions.codeHash} = ${codeHash(sessionId, code)} then now() end`,
    })
    .where(
      and(
        eq(sessions.id, sessionId),
        isNull(sessions.verifiedAt),
        gt(sessions.expiresAt, q`now()`),
        lt(sessions.attempts, MAX_CODE_ATTEMPTS),
      ),
    )
    .returning({ phoneNumber: sessions.phoneNumber, matched: q<boolean>`${sessions.verifiedAt} is not null`, attempts: sessions.attempts });
  if (!row) return { ok: false, reason: "spent" };
  if (!row.matched) return { ok: false, reason: "wrong-code", attemptsLeft: MAX_CODE_ATTEMPTS - row.attempts };
  return { ok: true, phoneNumber: row.phoneNumber };
}

/** Deletes sessions and simulated deliveries older than a day; returns how many sessions went. */
export async function expireVerifications(sql: postgres.Sql): Promise<number> {
  const db = drizzleOn(sql);
  const gone = await db.delete(sessions).where(lt(sessions.createdAt, q`now() - interval '1 day'`));
  await db.delete(simulatedPhoneInbox).where(lt(simulatedPhoneInbox.deliveredAt, q`now() - interval '1 day'`));
  return gone.count;
}
