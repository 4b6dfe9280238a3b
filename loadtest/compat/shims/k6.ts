// Compat shim for `k6`: check, group, sleep, fail (smoke only, see ../README section).
import { registry } from "../registry";

/** Records each check as k6 does: a `checks` Rate sample tagged with the check's name. */
export function check<T>(value: T, sets: Record<string, (v: T) => boolean>, tags?: Record<string, string>): boolean {
  let all = true;
  for (const [name, predicate] of Object.entries(sets)) {
    let ok = false;
    try {
      ok = Boolean(predicate(value));
    } catch {
      ok = false;
    }
    registry.checks.push({ name, ok });
    registry.add("checks", ok ? 1 : 0, { check: name, ...tags });
    all &&= ok;
  }
  return all;
}

export function group<T>(_name: string, fn: () => T): T {
  return fn();
}

export function fail(message?: string): never {
  throw new Error(message ?? "fail()");
}

/** k6's sleep blocks the VU; the scenarios use timers instead, so this is only here for completeness. */
export function sleep(seconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}
