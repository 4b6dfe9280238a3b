/**
 * `@handshake/seed`: materialises a sample of the population's shards into the
 * messenger's and the Facebook side's databases (COPY, idempotent) and writes the
 * k6 fixture files.
 */
export { seedSample, type SeedOptions, type SeedProgress, type SeedResult, type TableResult } from "./seed";
export { resolveMessengerDatabase, resolveFacebookDatabase, NoDatabaseError, type FacebookDatabaseChoice } from "./database";
export { addressBookEntriesOf, addressBookOf, uploadsAddressBook, DEFAULT_ADDRESS_BOOKS, type AddressBookEntry, type AddressBookOptions } from "./address-books";
export { sampleIdentity, credentialHash, type SampleIdentity } from "./identity";
export { generateKeySet, type SeedKeySet } from "./key-set";
export { outsidePool, samplePosition, sampleUserCount, type Sample, type SeedUser } from "./sample";
export { writeFixtures, fixtureUser, type FixtureMeta, type FixtureUser } from "./fixtures";
export { messengerTarget, MESSENGER_TABLES, type MessengerTargetOptions } from "./targets/messenger";
export { facebookTarget, facebookOnlyIdsCarriedBy, FACEBOOK_TABLES, type FacebookTargetOptions } from "./targets/facebook";
export type { SeedTarget, TableCounts } from "./targets/target";
export { resultTable } from "./report";
