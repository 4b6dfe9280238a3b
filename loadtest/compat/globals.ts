// The k6 globals the scenarios use in their init context: open() and __ENV.
import { readFileSync } from "node:fs";

export function installK6Globals(env: Record<string, string>): void {
  Object.assign(globalThis, {
    __ENV: env,
    open: (path: string) => readFileSync(path, "utf8"),
  });
}
