/**
 * `@handshake/simulator`: the world `pnpm dev` seeds on first start and the
 * process that makes it live (devices messaging, consent choices, the clock).
 */
export { Simulator, WORLD_START, consentSchedule, chooseLivePeople, type SimulatorOptions, type SimulatorStats } from "./simulator";
export { parseSpeed, PAUSE, REALTIME, type Speed } from "./speed";
export { startControl } from "./control";
export { WORLD_SPEC, WORLD_SHARDS, WORLD_OUTSIDE, worldUserIds, worldAccountsPresent, seedWorldOnce, type SeedWorldOutcome } from "./world";
