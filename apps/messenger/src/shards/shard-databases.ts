/**
 * The messenger's database pools, one per database of the shard map, and the
 * routing from an account to its database: the shard carried in the account id
 * (`account-id.ts`) → the map's range → the pool. Ids that carry no shard
 * (seeded accounts, accounts from before shard maps) live on the home database.
 * With one database (no SHARD_MAP) every lookup answers the same pool.
 */
import type postgres from "postgres";
import { type ShardMap, databaseOfShard, shardOfAccountId } from "@handshake/db/messenger-shards";

export interface ShardDatabase {
  /** The map's name for it (`main` without a map). */
  name: string;
  sql: postgres.Sql;
}

export class ShardDatabases {
  readonly home: ShardDatabase;
  readonly all: readonly ShardDatabase[];
  private readonly byName: Map<string, ShardDatabase>;

  constructor(
    readonly map: ShardMap,
    pools: Map<string, postgres.Sql>,
  ) {
    this.byName = new Map([...pools].map(([name, sql]) => [name, { name, sql }]));
    const home = this.byName.get(map.home);
    if (!home) throw new Error(`no pool for the home database "${map.home}"`);
    for (const name of Object.keys(map.databases)) if (!this.byName.has(name)) throw new Error(`no pool for database "${name}"`);
    this.home = home;
    this.all = [...this.byName.values()];
  }

  /** More than one database: cross-database work (usage counters, the account directory copy) is on. */
  get sharded(): boolean {
    return this.all.length > 1;
  }

  forShard(shard: number): ShardDatabase {
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.map.shardCount) return this.home;
    return this.byName.get(databaseOfShard(this.map, shard))!;
  }

  /** The database of an account's devices, keys and queue. An id the map does not cover answers home (where it is unknown). */
  forAccount(accountId: string): ShardDatabase {
    if (!this.sharded) return this.home;
    const shard = shardOfAccountId(accountId);
    return shard === null ? this.home : this.forShard(shard);
  }

  sqlFor = (accountId: string): postgres.Sql => this.forAccount(accountId).sql;
}
