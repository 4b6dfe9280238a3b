/**
 * Consent state per account: the append-only `consent_events` history folded
 * through `@handshake/consent`. A bounded in-memory cache serves the hot path
 * (every send checks the sender may use the service, and a recipient's blocks); it
 * is updated on every choice this node records. With several nodes, a choice
 * recorded on one is announced over the bus and the others drop their entry
 * (`onRecorded`, `invalidate`); entries also go stale after `cacheTtlMs`, which bounds
 * what a lost announcement costs.
 *
 * Loads go through lru-cache's `fetch`: concurrent misses of one account share one
 * load (without it, every send of a busy account queued its own two queries behind
 * a slow database, and the load grew with the slowness), and a stale entry is served
 * while one refresh runs, so an active account's sends never wait on the database for
 * it. The staleness bound is therefore `cacheTtlMs` plus one load. A choice recorded
 * here, or an invalidation, replaces or drops the entry and aborts a load in flight:
 * a read that began before the change can never be cached after it.
 */
import {
  applyChoice,
  newAccount,
  recordedChoice,
  type ConsentState,
  type RecordedChoice,
  type RegimeInput,
  type Result,
  type Timeline,
} from "@handshake/consent";
import { drizzleOn } from "@handshake/db/client";
import { accounts, consentEvents } from "@handshake/db/messenger-schema";
import type { TransactionSession } from "@handshake/db/pipelined-transaction";
import { asc, eq, sql as q, type Column } from "drizzle-orm";
import { LRUCache } from "lru-cache";
import { cacheLoader, fetchCurrent } from "./cache-fetch";
import type postgres from "postgres";

export type ConsentEventKind =
  | "terms-accepted"
  | "share-opted-out"
  | "business-blocked"
  | "business-unblocked"
  | "marketing-opted-out"
  | "marketing-opted-in";

const eventColumns = {
  kind: consentEvents.kind,
  policyVersion: consentEvents.policyVersion,
  shareWithFacebook: consentEvents.shareWithFacebook,
  businessAccountId: consentEvents.businessAccountId,
  at: consentEvents.at,
};
type EventRow = Pick<typeof consentEvents.$inferSelect, keyof typeof eventColumns>;

const accountColumns = { id: accounts.id, kind: accounts.kind, country: accounts.country, createdAt: accounts.createdAt };

/** `column = any($1::uuid[])`: one array parameter, one statement whatever the count. */
const anyUuid = (column: Column, ids: string[]) => q`${column} = any(${q.param(ids)}::uuid[])`;

export interface AccountFacts {
  id: string;
  kind: "personal" | "business";
  country: string;
  createdAt: Date;
}

/** A choice to record: what the user asked for, at a simulated time. */
export type ConsentChoice = RecordedChoice;

export class UnknownAccount extends Error {
  constructor(accountId: string) {
    super(`unknown account ${accountId}`);
  }
}

const CACHE_MAX = 200_000;

interface CachedConsent {
  account: AccountFacts;
  state: ConsentState;
}

export class ConsentStore {
  private readonly cache: LRUCache<string, CachedConsent>;
  /** The cache's two loads, built once (drizzle's query building was most of a load's CPU). */
  private readonly prepared;
  /** A load around the cache, when loads through it keep being aborted (`fetchCurrent`). */
  private readonly loadUncached = (accountId: string) => this.loadCached(accountId);
  /** Bumped by every invalidation: a read that started before one must not fill the cache. */
  private generation = 0;

  /** Runs after a choice for the account committed here (several nodes: tell the others). */
  onRecorded: ((accountId: string) => void) | null = null;

  /**
   * Runs inside the transaction that records a terms acceptance or a settings
   * opt-out, with the new state (the share pipeline writes its event there).
   */
  afterShareChange: ((tx: postgres.TransactionSql, accountId: string, state: ConsentState, at: Date) => Promise<void>) | null =
    null;

  constructor(
    private readonly sql: postgres.Sql,
    /** `regimeAt`: the regime in force at a moment (an acceptance is judged under its own). */
    private readonly rules: { regimeAt: (at: Date) => RegimeInput; timeline: Timeline },
    /** `cacheTtlMs`: how long a cached state may be served (default: until evicted; one node sees every choice). */
    options: { cacheTtlMs?: number } = {},
  ) {
    this.cache = new LRUCache({
      max: CACHE_MAX,
      ...(options.cacheTtlMs ? { ttl: options.cacheTtlMs, ttlAutopurge: false, allowStale: true, noDeleteOnStaleGet: true } : {}),
      fetchMethod: cacheLoader((accountId) => this.loadCached(accountId)),
    });
    const db = drizzleOn(sql);
    const id = q.placeholder("id");
    this.prepared = {
      account: db.select(accountColumns).from(accounts).where(eq(accounts.id, id)).prepare("consent_account"),
      events: db.select(eventColumns).from(consentEvents).where(eq(consentEvents.accountId, id)).orderBy(asc(consentEvents.id)).prepare("consent_events"),
    };
    // With a TTL, a stale entry only serves an active account while it refreshes; an idle
    // connection's (read once, when its stream opened) would stay for good: one scan per
    // two TTLs drops them.
    if (options.cacheTtlMs) setInterval(() => this.cache.purgeStale(), 2 * options.cacheTtlMs).unref();
  }

  /** States for many accounts at once (two queries; fresh cached ones from the cache). The relay's service gate asks. */
  async getMany(accountIds: string[]): Promise<Map<string, ConsentState>> {
    const out = new Map<string, ConsentState>();
    // Fresh entries only: a stale one (past the TTL, with several nodes) is read again with
    // the missing ones; `cache.get` would serve it, since the cache allows stale reads for `get`'s sake.
    const missing = accountIds.filter((id) => {
      const cached = this.fresh(id);
      if (cached) out.set(id, cached.state);
      return !cached;
    });
    if (missing.length === 0) return out;
    const generation = this.generation;
    for (const [id, entry] of await this.loadMany(this.sql, missing)) {
      this.remember(id, entry, generation);
      out.set(id, entry.state);
    }
    return out;
  }

  /**
   * States read from the database inside `tx`, never from the cache: what a share
   * snapshot is built from, after the transaction claimed the accounts' share
   * sequences (the cache may trail a choice another transaction just committed).
   */
  async readStates(tx: TransactionSession, accountIds: string[]): Promise<Map<string, ConsentState>> {
    const loaded = await this.loadMany(tx, accountIds);
    return new Map([...loaded].map(([id, entry]) => [id, entry.state]));
  }

  private async loadMany(sql: postgres.Sql | postgres.TransactionSql, accountIds: string[]) {
    const out = new Map<string, { account: AccountFacts; state: ConsentState }>();
    if (accountIds.length === 0) return out;
    const db = drizzleOn(sql);
    // Both in one round trip (pipelined on the connection; inside a transaction, in this order).
    const [found, events] = await Promise.all([
      db.select(accountColumns).from(accounts).where(anyUuid(accounts.id, accountIds)),
      db
        .select({ accountId: consentEvents.accountId, ...eventColumns })
        .from(consentEvents)
        .where(anyUuid(consentEvents.accountId, accountIds))
        .orderBy(asc(consentEvents.id)),
    ]);
    const byAccount = new Map<string, EventRow[]>();
    for (const event of events) {
      const list = byAccount.get(event.accountId) ?? [];
      list.push(event);
      byAccount.set(event.accountId, list);
    }
    for (const account of found) out.set(account.id, { account, state: this.fold(account, byAccount.get(account.id) ?? []) });
    return out;
  }

  /** The account's facts and current consent state. */
  get(accountId: string): Promise<{ account: AccountFacts; state: ConsentState }> {
    const fresh = this.fresh(accountId);
    return fresh ? Promise.resolve(fresh) : fetchCurrent(this.cache, accountId, this.loadUncached);
  }

  /**
   * The cached facts and state while they are fresh, without a promise or a lookup in the
   * database; `undefined` when missing or stale (then `get`, which loads or refreshes).
   * Every send and ack asks (`serviceProcedure`): a hit costs two map lookups.
   */
  fresh(accountId: string): { account: AccountFacts; state: ConsentState } | undefined {
    return this.cache.has(accountId) ? this.cache.get(accountId) : undefined;
  }

  /**
   * Applies a choice through the pure rules and appends it to the history, in one
   * transaction that locks the account row (two choices for one account never race).
   * A refusal records nothing.
   */
  async record(accountId: string, choice: ConsentChoice, at: Date): Promise<Result<ConsentState>> {
    const outcome = await this.sql.begin(async (tx) => {
      const { account, state } = await this.loadLocked(tx, accountId);
      const result = this.apply(state, choice, at);
      if (!result.ok) return { result, account };
      if (result.state === state) return { result, account }; // idempotent business choice: nothing new to record
      const version = choice.kind === "terms-accepted" ? choice.version : (result.state.terms?.version ?? "2012-07-07");
      await drizzleOn(tx)
        .insert(consentEvents)
        .values({
          accountId,
          kind: choice.kind,
          policyVersion: version,
          shareWithFacebook: choice.kind === "terms-accepted" ? choice.shareWithFacebook : null,
          method: choice.kind === "terms-accepted" || choice.kind === "share-opted-out" ? (result.state.share?.method ?? null) : null,
          businessAccountId: "businessAccountId" in choice ? choice.businessAccountId : null,
          at,
        });
      if ((choice.kind === "terms-accepted" || choice.kind === "share-opted-out") && this.afterShareChange) {
        await this.afterShareChange(tx, accountId, result.state, at);
      }
      return { result, account };
    });
    if (outcome.result.ok) {
      // Reads that started before this commit may hold the old state: they must not cache it.
      this.generation += 1;
      this.cache.set(accountId, { account: outcome.account, state: outcome.result.state });
      this.onRecorded?.(accountId);
    }
    return outcome.result;
  }

  /** Forget cached state (e.g. after a bulk import of history). */
  invalidate(accountId?: string): void {
    this.generation += 1;
    if (accountId) this.cache.delete(accountId);
    else this.cache.clear();
  }

  private apply(state: ConsentState, choice: ConsentChoice, at: Date): Result<ConsentState> {
    // The regime in force when the choice was made decides the share box the user saw.
    return applyChoice(state, choice, at, { regime: this.rules.regimeAt(at), timeline: this.rules.timeline });
  }

  /**
   * A load for the cache: both queries at once (one round trip, not two; the account's
   * facts never change, so two snapshots are as good as one), built once by drizzle.
   */
  private async loadCached(accountId: string) {
    const [[account], events] = await Promise.all([this.prepared.account.execute({ id: accountId }), this.prepared.events.execute({ id: accountId })]);
    if (!account) throw new UnknownAccount(accountId);
    return { account, state: this.fold(account, events) };
  }

  /** A load inside `record`'s transaction: the row lock serialises two choices for one account. */
  private async loadLocked(tx: postgres.TransactionSql, accountId: string) {
    const db = drizzleOn(tx);
    const [account] = await db.select(accountColumns).from(accounts).where(eq(accounts.id, accountId)).for("update");
    if (!account) throw new UnknownAccount(accountId);
    const events = await db.select(eventColumns).from(consentEvents).where(eq(consentEvents.accountId, accountId)).orderBy(asc(consentEvents.id));
    return { account, state: this.fold(account, events) };
  }

  /** The state of an account with no recorded choices. */
  initialState(account: AccountFacts): ConsentState {
    return newAccount({ registeredAt: account.createdAt, country: account.country, kind: account.kind }, this.rules.timeline);
  }

  private fold(account: AccountFacts, events: EventRow[]): ConsentState {
    let state = this.initialState(account);
    for (const event of events) {
      const choice = recordedChoice({
        kind: event.kind,
        policyVersion: event.policyVersion,
        shareWithFacebook: event.shareWithFacebook,
        businessAccountId: event.businessAccountId,
      });
      const result = this.apply(state, choice, event.at);
      // History was valid when recorded; if rules changed since, keep the last valid state.
      if (result.ok) state = result.state;
    }
    return state;
  }

  /** Caches a state read when the generation was `generation`, unless an invalidation or a choice came since. */
  private remember(accountId: string, entry: { account: AccountFacts; state: ConsentState }, generation: number) {
    if (generation !== this.generation) return;
    this.cache.set(accountId, entry);
  }
}
