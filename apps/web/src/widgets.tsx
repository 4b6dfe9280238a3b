/** Small building blocks the pages share: a figure with its label, and a failed call. */
import type { ReactNode } from "react";
import { describeError, isAuthError } from "./api";

/** One figure: a label and a value (a description list entry). */
export function Stat({ label, value, testId, hint }: { label: string; value: ReactNode; testId?: string; hint?: string }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
      {hint ? <dd className="hint">{hint}</dd> : null}
    </div>
  );
}

/** A failed call, said plainly; a refused token says how to get the right one. */
export function ErrorNote({ error, what }: { error: unknown; what: string }) {
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {isAuthError(error)
        ? `The ${what} refused the admin token. Open the address \`pnpm dev\` printed (…#token=…) in this tab.`
        : `Could not load from the ${what}: ${describeError(error)}`}
    </p>
  );
}
