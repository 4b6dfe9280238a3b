/**
 * Encoding for PostgreSQL's COPY text format: tab-separated columns, `\N` for
 * NULL, and backslash escapes for the characters that would break a line.
 */

const SPECIAL = /[\\\t\n\r]/;

/** One text value, escaped for COPY (backslash, tab, newline, carriage return). */
export function copyText(value: string | null): string {
  if (value === null) return "\\N";
  if (!SPECIAL.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
}

/** A bytea value in COPY text format (hex, with the backslash itself escaped). */
export function copyBytea(value: Buffer): string {
  return `\\\\x${value.toString("hex")}`;
}
