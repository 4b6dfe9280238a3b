// Compat shim for `k6/timers`: Node's timers (k6 returns numbers, Node handles: the
// scripts only pass them back to clearTimeout).
export const setTimeout = globalThis.setTimeout;
export const clearTimeout = globalThis.clearTimeout;
export const setInterval = globalThis.setInterval;
export const clearInterval = globalThis.clearInterval;
