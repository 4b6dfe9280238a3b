// What k6 1.x provides that the pinned @types/k6 (2.3.0) does not declare.
// A script file (no top-level import/export), so these are ambient declarations.

// k6 has a console (log, info, warn, error) in every context.
declare const console: { log(...args: unknown[]): void; warn(...args: unknown[]): void; error(...args: unknown[]): void };

// k6 1.x ships the event-loop WebSocket as `k6/experimental/websockets` (promoted to
// `k6/websockets` later; @types/k6 2.x types only the promoted name, same API).
declare module "k6/experimental/websockets" {
  export * from "k6/websockets";
}
