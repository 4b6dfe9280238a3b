/**
 * The world's advertisers: from WhatsApp's announcement on, once a simulated day one
 * of them uploads a customer list (SHA-256 of phone numbers, as Custom Audiences take
 * them) of people in the world and reads the audience's size, through the Facebook
 * side's advertiser API. What Facebook answers them is what the privacy audit's
 * advertiser check judges (no phone, hash or profile id may come back). Audience
 * budgets are per advertiser on wall-clock time (apps/facebook/src/audiences/budget.ts):
 * an advertiser refused for budget is replaced by a new one, as a busy world has many.
 */
import { createHash } from "node:crypto";
import { createTRPCClient, httpLink, TRPCClientError, type TRPCClient } from "@trpc/client";
import type { FacebookRouter } from "@handshake/api-types";
import { userAt, type PopulationSpec } from "@handshake/population";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Rows in one customer list (assumption: a small business's list; Facebook's minimum audience is 100). */
const LIST_ROWS = 250;
/** At most one upload per this many real milliseconds, whatever the speed. */
const MIN_REAL_GAP_MS = 2_000;

export interface AdvertiserStats {
  lists: number;
  rows: number;
  refused: number;
  /** The last size answer, as Facebook shows it to the advertiser (a range or "too small"). */
  lastSize: string | null;
}

type Facebook = TRPCClient<FacebookRouter>;

export const phoneHash = (phone: string) => createHash("sha256").update(phone.slice(1), "utf8").digest("hex");

export class Advertisers {
  readonly stats: AdvertiserStats = { lists: 0, rows: 0, refused: 0, lastSize: null };
  private readonly admin: Facebook;
  private current: Facebook | null = null;
  private created = 0;
  private lastDay: number | null = null;
  private lastRealMs = 0;
  private busy = false;

  constructor(
    private readonly options: {
      facebookUrl: string;
      adminToken: string;
      spec: PopulationSpec;
      ids: readonly number[];
      /** When uploads start (WhatsApp's announcement). */
      fromMs: number;
      rand: () => number;
      log: (message: string, fields?: Record<string, unknown>) => void;
    },
  ) {
    this.admin = createTRPCClient<FacebookRouter>({
      links: [httpLink({ url: options.facebookUrl, headers: { "x-admin-token": options.adminToken } })],
    });
  }

  /** Called every tick with the simulation time: uploads the day's list if it is due (one at a time). */
  tick(simMs: number): void {
    if (simMs < this.options.fromMs || this.busy) return;
    const day = Math.floor(simMs / DAY_MS);
    if (day === this.lastDay || performance.now() - this.lastRealMs < MIN_REAL_GAP_MS) return;
    this.lastDay = day;
    this.lastRealMs = performance.now();
    this.busy = true;
    void this.upload(new Date(day * DAY_MS).toISOString().slice(0, 10))
      .catch((error: unknown) => {
        this.stats.refused += 1;
        this.options.log("customer list upload failed", { error: (error as Error).message });
      })
      .finally(() => (this.busy = false));
  }

  private async upload(date: string): Promise<void> {
    const { ids, spec, rand } = this.options;
    const rows = new Set<string>();
    while (rows.size < Math.min(LIST_ROWS, ids.length)) rows.add(phoneHash(userAt(spec, ids[Math.floor(rand() * ids.length)]!).phone));
    for (let attempt = 0; attempt < 2; attempt++) {
      const advertiser = this.current ?? (await this.newAdvertiser());
      try {
        const { audienceId } = await advertiser.audiences.create.mutate({ name: `Customers ${date}` });
        const answer = await advertiser.audiences.upload.mutate({ audienceId, hashes: [...rows] });
        this.stats.lists += 1;
        this.stats.rows += rows.size;
        this.stats.lastSize = JSON.stringify(answer).slice(0, 200);
        return;
      } catch (error) {
        // This advertiser's budget is spent for today: the next list comes from a new one.
        if (error instanceof TRPCClientError && (error.data as { code?: string } | undefined)?.code === "TOO_MANY_REQUESTS") {
          this.stats.refused += 1;
          this.current = null;
          continue;
        }
        throw error;
      }
    }
  }

  private async newAdvertiser(): Promise<Facebook> {
    this.created += 1;
    const { credential } = await this.admin.advertisers.create.mutate({ name: `World advertiser ${this.created}` });
    this.current = createTRPCClient<FacebookRouter>({
      links: [httpLink({ url: this.options.facebookUrl, headers: { authorization: `Bearer ${credential}` } })],
    });
    return this.current;
  }
}
