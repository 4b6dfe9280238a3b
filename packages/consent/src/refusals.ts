/**
 * Machine-readable reasons a choice or a use is refused. User mistakes are never thrown:
 * transitions return `Result`, checks return `Refusal | null`.
 */
export const REFUSAL_CODES = [
  "invalid-time",
  "out-of-order",
  "unknown-policy-version",
  "not-current-policy",
  "already-accepted",
  "terms-not-accepted",
  "no-choice-for-new-users",
  "choice-window-closed",
  "already-opted-out",
  "not-registered",
  "not-a-business",
  "business-blocked",
  "marketing-opted-out",
] as const;

export type RefusalCode = (typeof REFUSAL_CODES)[number];

/** Why something was refused: `code` for programs, `message` for people. */
export interface Refusal {
  readonly code: RefusalCode;
  readonly message: string;
}

/** The outcome of a state transition: the new state, or a refusal (the old state is unchanged). */
export type Result<S> = { readonly ok: true; readonly state: S } | { readonly ok: false; readonly refusal: Refusal };

export function refuse<S>(code: RefusalCode, message: string): Result<S> {
  return { ok: false, refusal: { code, message } };
}

export function accept<S>(state: S): Result<S> {
  return { ok: true, state };
}
