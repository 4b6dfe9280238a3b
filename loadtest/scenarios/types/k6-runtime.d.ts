// What k6 (>= 1.6) provides that the pinned @types/k6 (2.3.0) does not declare.
// A script file (no top-level import/export), so these are ambient declarations.

// k6 has a console (log, info, warn, error) in every context.
declare const console: { log(...args: unknown[]): void; warn(...args: unknown[]): void; error(...args: unknown[]): void };

// k6's global Web Crypto object (grafana/k6 internal/js/modules/k6/webcrypto/module.go sets
// the global `crypto`, with randomUUID: crypto.go RandomUUID). Only what the scripts use.
declare const crypto: { randomUUID(): string };
