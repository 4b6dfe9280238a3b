/**
 * The messenger's shard layout, shared by the messenger (routing) and the seeder
 * (writing seeded accounts where the messenger will look for them): the shard map file,
 * account ids that carry their shard, and the shard of a phone number.
 */
export { mintAccountId, shardOfAccountId, taggedAccountId } from "./account-id";
export { databaseOfShard, DEFAULT_SHARD_COUNT, loadShardMap, parseShardMap, singleDatabaseMap, type ShardMap, type ShardMapFile } from "./shard-map";
export { shardOfPhone } from "./phone-shard";
