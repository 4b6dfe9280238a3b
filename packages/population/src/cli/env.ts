import { resolve } from "node:path";

/**
 * The directory the user ran `pnpm population …` from. `pnpm --filter` runs the
 * script inside the package folder, but sets INIT_CWD to the caller's directory;
 * relative output paths are resolved against it. The only environment read.
 */
export function callerCwd(): string {
  return process.env.INIT_CWD ?? process.cwd();
}

/** An output path as the user meant it (relative to where they ran the command). */
export function resolveOutput(path: string): string {
  return resolve(callerCwd(), path);
}
