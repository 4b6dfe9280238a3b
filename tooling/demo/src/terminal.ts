/** How the demo writes to the terminal: ANSI emphasis, and a sink for its lines (tests collect them). */
export const dim = (s: string) => `\x1b[2m${s}\x1b[0m`;
export const bold = (s: string) => `\x1b[1m${s}\x1b[0m`;
export const cyan = (s: string) => `\x1b[36m${s}\x1b[0m`;

/** Where a chapter of the demo prints its lines. */
export type Print = (line: string) => void;
