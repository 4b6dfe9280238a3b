// The k6 globals the scenarios use: open() and __ENV (init context), crypto.randomUUID
// (Node's own global crypto has it, as k6's Web Crypto does).
import { readFileSync } from "node:fs";

export function installK6Globals(env: Record<string, string>): void {
  Object.assign(globalThis, {
    __ENV: env,
    open: (path: string) => readFileSync(path, "utf8"),
  });
}
