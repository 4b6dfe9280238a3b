/**
 * The simulator: the seeded world's people as real devices (libsignal identities,
 * WebSockets, the client SDK) acting through the messenger's public API, while the
 * simulation clock is moved forward at the chosen speed through the admin API.
 *
 * - A few dozen people are live devices: they message their contacts at the
 *   population model's rates (scaled to a message budget per real second), go
 *   offline and come back (store-and-forward), and react to business messages.
 * - The world's businesses send transactional and marketing messages to live
 *   people; some recipients block a business or opt out of its marketing.
 * - Every pre-2016 person of the world (live or not) makes the consent choice the
 *   population gave them when the simulation clock reaches the day they make it:
 *   accept with the box ticked, untick it, or opt out in Settings later. These
 *   are single HTTP calls with the account's own credential.
 */
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import { contactsOf, userCoreAt, type PopulationSpec, type UserCore } from "@handshake/population";
import { sampleIdentity } from "@handshake/seed";
import { createMessengerClient, HandshakeDevice } from "@handshake/client";
import type { AppRouter } from "@handshake/messenger";
import { TRANSACTIONAL_TOPICS } from "@handshake/consent";
import { Advertisers, type AdvertiserStats } from "./advertisers";
import { PAUSE, type Speed } from "./speed";
import { WORLD_SPEC, worldUserIds } from "./world";

const DAY_MS = 86_400_000;

/** An hour before WhatsApp's announcement (2016-08-25): the eve of the new terms. */
export const WORLD_START = new Date("2016-08-24T23:00:00Z");

export interface SimulatorOptions {
  /** The messenger's tRPC endpoint, e.g. http://127.0.0.1:4100/trpc */
  messengerUrl: string;
  /** The messenger's ADMIN_TOKEN (moves the simulation clock). */
  adminToken: string;
  speed: Speed;
  spec?: PopulationSpec;
  /** The messenger's shard count (seeded account ids carry the shard of the phone modulo it; default 10,000). */
  shardCount?: number;
  /** Live personal devices (default 40). */
  liveDevices?: number;
  /** Live business devices (default 4, at most the world's businesses). */
  businesses?: number;
  /** Messages per real second the whole world may send at most (default 10). */
  messageBudgetPerSecond?: number;
  /** Messages a business sends per simulated day (default 20). */
  businessMessagesPerDay?: number;
  /** Mean real seconds a live device stays online, then offline (default 60 and 8). */
  meanOnlineSeconds?: number;
  meanOfflineSeconds?: number;
  /** Consent calls in flight at most (default 4). */
  consentConcurrency?: number;
  tickMs?: number;
  /**
   * Where a fresh world's clock starts (default `WORLD_START`): a clock found earlier
   * is moved there on start, so the rollout begins within seconds instead of after the
   * idle days before the announcement; `null` leaves the clock where it is.
   */
  worldStart?: Date | null;
  /** Seed of the simulator's own random choices (default 1). */
  seed?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** The Facebook side's tRPC endpoint: with it, advertisers upload customer lists (advertisers.ts). */
  facebookUrl?: string;
  /** Facebook's ADMIN_TOKEN (creates the advertisers); default: `adminToken`. */
  facebookAdminToken?: string;
}

export interface SimulatorStats {
  world: "starting" | "seeded" | "absent";
  /** True while the clock waits for consent calls to catch up. */
  holding: boolean;
  speed: string;
  clock: string | null;
  devices: { online: number; offline: number };
  messages: { sent: number; received: number; dropped: number };
  business: { transactional: number; marketing: number; blocks: number; marketingOptOuts: number };
  consent: { accepted: number; unticked: number; optedOut: number; pending: number };
  /** Calls the messenger refused, by tRPC error code. */
  refused: Record<string, number>;
  /** Customer lists advertisers uploaded (null without a Facebook side). */
  advertisers: AdvertiserStats | null;
}

interface ConsentEvent {
  at: number;
  user: number;
  action: "accept" | "untick" | "opt-out";
}

interface Live {
  user: UserCore;
  device: HandshakeDevice;
  online: boolean;
  /** Live devices among the person's contacts (people to write to). */
  contacts: Live[];
  /** Signal sessions are stateful: one operation at a time per device. */
  chain: Promise<void>;
  backlog: number;
  blocked: Set<string>;
}

/** mulberry32: a small seeded generator, so runs with the same seed choose alike. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MARKETING_PREFIX = "Offer: ";

/**
 * The consent choices of the world's people, as dated events: the day a person
 * accepts is the policy change plus their `acceptsAfterDays`, spread over the
 * day by their id; "opts out later" is a second event on `optsOutAfterDays`.
 */
export function consentSchedule(spec: PopulationSpec, ids: readonly number[]): ConsentEvent[] {
  const policyMs = Date.parse(`${spec.policyChange}T00:00:00Z`);
  const events: ConsentEvent[] = [];
  for (const id of ids) {
    const u = userCoreAt(spec, id);
    if (u.acceptsAfterDays === null) continue;
    const within = ((id * 2654435761) >>> 0) % DAY_MS;
    events.push({ at: policyMs + u.acceptsAfterDays * DAY_MS + within, user: id, action: u.consent === "unticks" ? "untick" : "accept" });
    if (u.consent === "opts-out-later" && u.optsOutAfterDays !== null) {
      events.push({ at: policyMs + u.optsOutAfterDays * DAY_MS + within, user: id, action: "opt-out" });
    }
  }
  return events.sort((a, b) => a.at - b.at || a.user - b.user);
}

/**
 * Chooses the live people: a cluster grown through contacts inside the world
 * (breadth first from the lowest ids), so live people mostly write to each other;
 * only people registered by `now` who will accept the terms.
 */
export function chooseLivePeople(spec: PopulationSpec, ids: readonly number[], count: number, now: number): number[] {
  const inWorld = new Set(ids);
  const chosen: number[] = [];
  const seen = new Set<number>();
  for (const start of ids) {
    if (chosen.length >= count) break;
    if (seen.has(start)) continue;
    const queue = [start];
    seen.add(start);
    while (queue.length > 0 && chosen.length < count) {
      const id = queue.shift()!;
      const u = userCoreAt(spec, id);
      // registered by now (the messenger refuses service before that), and keeping service after the deadline
      if (u.business || u.activity === "dormant" || u.registeredAt > now || u.consent === "never-accepts") continue;
      chosen.push(id);
      for (const c of contactsOf(spec, id)) {
        if (inWorld.has(c) && !seen.has(c)) {
          seen.add(c);
          queue.push(c);
        }
      }
    }
  }
  return chosen;
}

function codeOf(error: unknown): string {
  if (error instanceof TRPCClientError) {
    const data = (error as TRPCClientError<AppRouter>).data as { code?: string } | undefined;
    return data?.code ?? "CLIENT";
  }
  return "NETWORK";
}

/**
 * Connects, or closes and throws: the SDK's connect waits for the inbox
 * subscription to start, and one the server refuses never does.
 */
async function connectWithin(device: HandshakeDevice, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const connected = await Promise.race([
    device.connect().then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  if (!connected) {
    await device.close();
    throw new Error(`${device.accountId} could not subscribe: ${device.failures.map((f) => f.error.message).join("; ")}`);
  }
}

/** Consent calls waiting beyond this hold the clock, so choices are recorded near their day. */
const CONSENT_BACKLOG_HOLD = 40;

export class Simulator {
  readonly stats: SimulatorStats;
  private readonly spec: PopulationSpec;
  private readonly identity: ReturnType<typeof sampleIdentity>;
  private readonly rand: () => number;
  private readonly admin;
  private readonly log: NonNullable<SimulatorOptions["log"]>;
  private speed: Speed;
  private people: Live[] = [];
  private businesses: Live[] = [];
  private schedule: ConsentEvent[] = [];
  private next = 0;
  private consentInFlight = 0;
  private consentQueue: ConsentEvent[] = [];
  /** People whose acceptance call has settled (their opt-out may follow). */
  private readonly acceptedUsers = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private lastReal = 0;
  private lastSim = 0;
  private stopped = false;
  private advertisers: Advertisers | null = null;

  constructor(private readonly options: SimulatorOptions) {
    this.spec = options.spec ?? WORLD_SPEC;
    this.identity = sampleIdentity(this.spec, options.shardCount ? { shardCount: options.shardCount } : {});
    this.rand = random(options.seed ?? 1);
    this.speed = options.speed;
    this.log = options.log ?? (() => {});
    this.admin = createTRPCClient<AppRouter>({
      links: [httpLink({ url: options.messengerUrl, headers: { "x-admin-token": options.adminToken } })],
    });
    this.stats = {
      world: "starting",
      holding: false,
      speed: options.speed.label,
      clock: null,
      devices: { online: 0, offline: 0 },
      messages: { sent: 0, received: 0, dropped: 0 },
      business: { transactional: 0, marketing: 0, blocks: 0, marketingOptOuts: 0 },
      consent: { accepted: 0, unticked: 0, optedOut: 0, pending: 0 },
      refused: {},
      advertisers: null,
    };
  }

  /** The current speed. */
  get currentSpeed(): Speed {
    return this.speed;
  }

  /** Changes the speed from the next tick on. */
  setSpeed(speed: Speed): void {
    this.speed = speed;
    this.stats.speed = speed.label;
    this.log("speed changed", { speed: speed.label });
  }

  /**
   * Finds the world (an account of it must authenticate), brings the live
   * devices up and starts ticking. Without a seeded world it only moves the clock.
   */
  async start(): Promise<void> {
    const ids = worldUserIds(this.spec);
    const first = ids[0]!;
    try {
      await createMessengerClient({ url: this.options.messengerUrl, credential: this.identity.credential(first) }).client.terms.current.query();
      this.stats.world = "seeded";
    } catch (error) {
      if (codeOf(error) !== "UNAUTHORIZED") throw error;
      this.stats.world = "absent";
      this.log("no seeded world (started with --empty?): only the clock moves");
    }
    let { now } = await this.admin.clock.now.query();
    const worldStart = this.options.worldStart === undefined ? WORLD_START : this.options.worldStart;
    if (worldStart && Date.parse(now) < worldStart.getTime()) {
      ({ now } = await this.admin.admin.setClock.mutate({ at: worldStart.toISOString() }));
      this.log("clock moved to the world's start", { now });
    }
    this.lastSim = Date.parse(now);
    this.stats.clock = now;
    if (this.stats.world === "seeded") {
      await this.bringUp(ids);
      this.schedule = consentSchedule(this.spec, ids);
      await this.catchUp();
      if (this.options.facebookUrl) {
        this.advertisers = new Advertisers({
          facebookUrl: this.options.facebookUrl,
          adminToken: this.options.facebookAdminToken ?? this.options.adminToken,
          spec: this.spec,
          ids,
          fromMs: Date.parse(`${this.spec.policyChange}T00:00:00Z`),
          rand: this.rand,
          log: this.log,
        });
        this.stats.advertisers = this.advertisers.stats;
      }
    }
    this.lastReal = performance.now();
    const tickMs = this.options.tickMs ?? 250;
    this.timer = setInterval(() => {
      if (this.ticking) return;
      this.ticking = this.tick()
        .catch((error: unknown) => this.log("tick failed", { error: (error as Error).message }))
        .finally(() => (this.ticking = null));
    }, tickMs);
  }

  private async bringUp(ids: readonly number[]): Promise<void> {
    const personal = chooseLivePeople(this.spec, ids, this.options.liveDevices ?? 40, this.lastSim);
    const businessIds = ids
      .filter((id) => {
        const u = userCoreAt(this.spec, id);
        return u.business && u.registeredAt <= this.lastSim && u.consent !== "never-accepts";
      })
      .slice(0, this.options.businesses ?? 4);
    const resume = async (id: number): Promise<Live> => {
      const user = userCoreAt(this.spec, id);
      const device = await HandshakeDevice.resume({
        url: this.options.messengerUrl,
        accountId: this.identity.accountId(id),
        credential: this.identity.credential(id),
        phoneNumber: user.phone,
        oneTimePreKeys: 20,
      });
      await connectWithin(device, 10_000);
      return { user, device, online: true, contacts: [], chain: Promise.resolve(), backlog: 0, blocked: new Set() };
    };
    // a few at a time: each start generates a Kyber key and uploads it
    const all = [...personal, ...businessIds];
    const live: Live[] = [];
    for (let k = 0; k < all.length; k += 4) live.push(...(await Promise.all(all.slice(k, k + 4).map(resume))));
    this.people = live.slice(0, personal.length);
    this.businesses = live.slice(personal.length);
    const byId = new Map(this.people.map((p) => [p.user.id, p]));
    for (const p of this.people) p.contacts = contactsOf(this.spec, p.user.id).flatMap((c) => byId.get(c) ?? []);
    const businessAccounts = new Set(this.businesses.map((b) => b.device.accountId));
    for (const p of this.people) void this.receive(p, businessAccounts);
    for (const b of this.businesses) void this.receive(b, businessAccounts);
    this.countDevices();
    this.log("live devices up", { people: this.people.length, businesses: this.businesses.length });
  }

  /** Counts what a live device receives and reacts to marketing (block, or opt out of it). */
  private async receive(live: Live, businesses: Set<string>): Promise<void> {
    for await (const message of live.device.messages()) {
      this.stats.messages.received++;
      if (!businesses.has(message.from.accountId) || !message.text.startsWith(MARKETING_PREFIX)) continue;
      const business = message.from.accountId;
      if (live.blocked.has(business)) continue;
      const r = this.rand();
      if (r < 0.05) {
        live.blocked.add(business);
        this.enqueue(live, async () => {
          await live.device.blockBusiness(business);
          this.stats.business.blocks++;
        });
      } else if (r < 0.15) {
        live.blocked.add(business);
        this.enqueue(live, async () => {
          await live.device.optOutOfMarketing(business);
          this.stats.business.marketingOptOuts++;
        });
      }
    }
  }

  /** Consent events whose day passed before this start (a restart): done unless the account already accepted. */
  private async catchUp(): Promise<void> {
    const due: ConsentEvent[] = [];
    while (this.next < this.schedule.length && this.schedule[this.next]!.at <= this.lastSim) due.push(this.schedule[this.next++]!);
    const accepted = new Set<number>();
    for (const event of due) {
      if (event.action === "opt-out") {
        if (accepted.has(event.user)) this.consentQueue.push(event); // else done by the run that accepted
        continue;
      }
      const client = createMessengerClient({ url: this.options.messengerUrl, credential: this.identity.credential(event.user) }).client;
      const terms = await client.terms.current.query().catch(() => null);
      if (terms && terms.accepted === null) {
        accepted.add(event.user);
        this.consentQueue.push(event);
      }
    }
    this.stats.consent.pending = this.schedule.length - this.next + this.consentQueue.length;
    this.pumpConsent();
  }

  private countDevices(): void {
    const all = [...this.people, ...this.businesses];
    this.stats.devices = { online: all.filter((l) => l.online).length, offline: all.filter((l) => !l.online).length };
  }

  private enqueue(live: Live, work: () => Promise<void>, limit = Infinity): boolean {
    if (live.backlog >= limit) return false;
    live.backlog++;
    live.chain = live.chain
      .then(work)
      .catch((error: unknown) => this.refused(error))
      .finally(() => live.backlog--);
    return true;
  }

  private refused(error: unknown): void {
    const code = codeOf(error);
    this.stats.refused[code] = (this.stats.refused[code] ?? 0) + 1;
    if (code === "NETWORK" || code === "INTERNAL_SERVER_ERROR") this.log("call failed", { error: (error as Error).message });
  }

  private async tick(): Promise<void> {
    const real = performance.now();
    const dt = (real - this.lastReal) / 1000;
    this.lastReal = real;
    const speed = this.speed;
    let now: string;
    // the world keeps up or the clock waits: consent choices must land near their day
    const holding = this.consentQueue.length > CONSENT_BACKLOG_HOLD;
    // the messenger's clock runs at real speed by itself: add the rest (dates may be jumped across:
    // the shipper narrows what leaves to the regime at ship time, apps/messenger/src/share/ship-check.ts)
    const advance = speed.simMsPerSecond > 1_000 && !holding ? Math.round((speed.simMsPerSecond - 1_000) * dt) : 0;
    if (advance > 0) {
      ({ now } = await this.admin.admin.advanceClock.mutate({ ms: advance }));
    } else {
      ({ now } = await this.admin.clock.now.query());
    }
    this.stats.holding = holding;
    const sim = Date.parse(now);
    const simDays = Math.max(0, sim - this.lastSim) / DAY_MS;
    this.lastSim = sim;
    this.stats.clock = now;
    if (speed === PAUSE || this.stats.world !== "seeded" || this.stopped) return;

    while (this.next < this.schedule.length && this.schedule[this.next]!.at <= sim) this.consentQueue.push(this.schedule[this.next++]!);
    this.pumpConsent();
    this.churn(dt);
    this.message(simDays, dt);
    this.advertisers?.tick(sim);
  }

  private pumpConsent(): void {
    const limit = this.options.consentConcurrency ?? 4;
    while (this.consentInFlight < limit && this.consentQueue.length > 0 && !this.stopped) {
      // a person's opt-out waits until their acceptance was recorded
      const k = this.consentQueue.findIndex((e) => e.action !== "opt-out" || this.acceptedUsers.has(e.user));
      if (k < 0) break;
      const event = this.consentQueue.splice(k, 1)[0]!;
      this.consentInFlight++;
      void this.consent(event).finally(() => {
        this.consentInFlight--;
        this.stats.consent.pending = this.schedule.length - this.next + this.consentQueue.length + this.consentInFlight;
        this.pumpConsent();
      });
    }
    this.stats.consent.pending = this.schedule.length - this.next + this.consentQueue.length + this.consentInFlight;
  }

  private async consent(event: ConsentEvent): Promise<void> {
    const client = createMessengerClient({ url: this.options.messengerUrl, credential: this.identity.credential(event.user) }).client;
    try {
      if (event.action === "opt-out") {
        await client.settings.setShareAccountInfo.mutate({ shareWithFacebook: false });
        this.stats.consent.optedOut++;
      } else {
        await client.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: event.action === "accept" });
        if (event.action === "accept") this.stats.consent.accepted++;
        else this.stats.consent.unticked++;
      }
    } catch (error) {
      this.refused(error);
    } finally {
      // settled either way: a refused acceptance lets the opt-out be tried (and refused) rather than wait forever
      if (event.action !== "opt-out") this.acceptedUsers.add(event.user);
    }
  }

  /** Offline and back: in real seconds, so store-and-forward happens at every speed. */
  private churn(dt: number): void {
    const goOffline = dt / (this.options.meanOnlineSeconds ?? 60);
    const comeBack = dt / (this.options.meanOfflineSeconds ?? 8);
    for (const live of this.people) {
      if (live.online && this.rand() < goOffline) {
        live.online = false;
        this.enqueue(live, () => live.device.close());
      } else if (!live.online && this.rand() < comeBack) {
        live.online = true;
        this.enqueue(live, () => connectWithin(live.device, 10_000));
      }
    }
    this.countDevices();
  }

  /** Sends what the model's rates ask for over `simDays`, scaled down to the budget. */
  private message(simDays: number, dt: number): void {
    if (simDays <= 0) return;
    const senders = this.people.filter((p) => p.online && p.contacts.length > 0);
    const businessRate = this.options.businessMessagesPerDay ?? 20;
    const wanted =
      senders.reduce((sum, p) => sum + p.user.messagesPerDay, 0) * simDays + this.businesses.length * businessRate * simDays;
    const budget = (this.options.messageBudgetPerSecond ?? 10) * dt;
    const scale = wanted > budget ? budget / wanted : 1;
    const draws = (mean: number) => Math.floor(mean) + (this.rand() < mean - Math.floor(mean) ? 1 : 0);
    for (const p of senders) {
      for (let n = draws(p.user.messagesPerDay * simDays * scale); n > 0; n--) {
        const to = p.contacts[Math.floor(this.rand() * p.contacts.length)]!;
        const sent = this.enqueue(
          p,
          async () => {
            await p.device.send(to.device.accountId, `hi from ${p.user.id} at ${this.stats.clock}`);
            this.stats.messages.sent++;
          },
          8,
        );
        if (!sent) this.stats.messages.dropped++;
      }
    }
    if (this.people.length === 0) return;
    for (const b of this.businesses) {
      for (let n = draws(businessRate * simDays * scale); n > 0; n--) {
        const to = this.people[Math.floor(this.rand() * this.people.length)]!;
        const marketing = this.rand() < 0.3;
        const topic = TRANSACTIONAL_TOPICS[Math.floor(this.rand() * TRANSACTIONAL_TOPICS.length)]!;
        const sent = this.enqueue(
          b,
          async () => {
            if (marketing) {
              await b.device.send(to.device.accountId, `${MARKETING_PREFIX}20% off this week`, { category: { kind: "marketing" } });
              this.stats.business.marketing++;
            } else {
              await b.device.send(to.device.accountId, `Your ${topic} update`, { category: { kind: "transactional", topic } });
              this.stats.business.transactional++;
            }
            this.stats.messages.sent++;
          },
          8,
        );
        if (!sent) this.stats.messages.dropped++;
      }
    }
  }

  /** Stops ticking, waits for what is in flight and closes every device. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    const all = [...this.people, ...this.businesses];
    await Promise.all(all.map((l) => l.chain));
    while (this.consentInFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await Promise.all(all.map((l) => l.device.close().catch(() => {})));
  }
}
