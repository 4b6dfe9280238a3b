/**
 * The router types of the two services, so each can call the other through a
 * typed tRPC client (`createTRPCClient<FacebookRouter>`) while neither imports
 * the other's code: these are type-only re-exports, erased at build time, and
 * this package has no runtime content at all. The apps depend on this package,
 * never on each other (enforced in eslint.config.js); it reads their sources
 * only through the type checker, so it declares no dependency on them either
 * (no cycle in the workspace graph).
 */
export type { AppRouter as MessengerRouter } from "../../../apps/messenger/src/root";
export type { AppRouter as FacebookRouter } from "../../../apps/facebook/src/root";
