/**
 * `@handshake/seed`: materialises a sample of the population's shards into the
 * messenger's database (COPY, idempotent) and writes the k6 fixture files.
 */
export { seedSample, type SeedOptions, type SeedProgress, type SeedResult, type TableResult } from "./seed";
export { resolveMessengerDatabase, NoDatabaseError } from "./database";
export { sampleIdentity, credentialHash, type SampleIdentity } from "./identity";
export { generateKeySet, type SeedKeySet } from "./key-set";
export { outsidePool, samplePosition, sampleUserCount, type Sample, type SeedUser } from "./sample";
export { writeFixtures, fixtureUser, type FixtureMeta, type FixtureUser } from "./fixtures";
export { messengerTarget, MESSENGER_TABLES, type MessengerTargetOptions } from "./targets/messenger";
export type { SeedTarget, TableCounts } from "./targets/target";
export { resultTable } from "./report";
