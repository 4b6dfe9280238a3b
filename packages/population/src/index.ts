export { DEFAULT_SPEC, createSpec, validateSpec } from "./spec";
export type { ActivityClass, ActivitySpec, ContactsSpec, Os, OsSpec, PopulationSpec, SpecOverrides, Weighted } from "./spec";
export { DEFAULT_COUNTRIES } from "./countries";
export type { ConsentProbabilities, CountrySpec } from "./countries";
export { nameOf, userAt, userCoreAt } from "./users";
export type { ConsentBehaviour, FacebookPhoneState, User, UserCore } from "./users";
export { contactsOf, degreeOf } from "./contacts";
export { degreeClasses } from "./degrees";
export type { DegreeClasses } from "./degrees";
export { parseShardList, sampleMembership, shardOf, shardRange, shardSize, userCoresOfShard, usersOfShard } from "./shards";
export type { IdRange } from "./shards";
export {
  facebookIdSpace,
  facebookOnlyCount,
  facebookProfileAt,
  facebookProfileOfUser,
  facebookProfilesOfShard,
} from "./facebook";
export type { FacebookProfile } from "./facebook";
/** Seeded, stateless hashing, for tools that derive more data from the same world. */
export { draw, keyFor, keyOf, unit } from "./hash";
