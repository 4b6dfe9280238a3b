// Compat shim for `k6/timers`: Node's timers (numbers in k6, handles in Node).
export const setTimeout = globalThis.setTimeout;
export const clearTimeout = globalThis.clearTimeout;
export const setInterval = globalThis.setInterval;
export const clearInterval = globalThis.clearInterval;
