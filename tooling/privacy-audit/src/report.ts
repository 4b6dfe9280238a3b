/**
 * What a check reports: how many rows it examined, how many breaches it found,
 * and a few examples. Examples name rows by id only, never by personal data.
 */

/** The checks, in the order they run and print. */
export const CHECK_IDS = [
  "no-message-data",
  "nothing-under-ban",
  "no-choice-use-after-opt-out",
  "purpose-allowed-at-use",
  "advertiser-responses-clean",
  "held-now-allowed-now",
  "newest-snapshot-held",
] as const;

export type CheckId = (typeof CHECK_IDS)[number];

export const CHECK_TITLES: Record<CheckId, string> = {
  "no-message-data": "1 no message content, ciphertext or envelope metadata at Facebook",
  "nothing-under-ban": "2 nothing held or used for accounts under a ban",
  "no-choice-use-after-opt-out": "3 no ads/product use for opted-out accounts",
  "purpose-allowed-at-use": "4 every audited use allowed at its time",
  "advertiser-responses-clean": "5 no phone, hash or profile id sent to advertisers",
  "held-now-allowed-now": "6 shared data held now may be held now",
  "newest-snapshot-held": "7 Facebook holds each account's newest snapshot, which follows the newest consent",
};

/** One breach, located by table and row ids. */
export interface Breach {
  /** Where: a table (and column), e.g. `audit_log`, `advertiser_api_log.response`. */
  where: string;
  /** Which row, by its ids (row id, WhatsApp account id, field), never by personal data. */
  row: string;
  /** Why it is a breach. */
  reason: string;
}

export interface CheckResult {
  id: CheckId;
  title: string;
  /** Rows (or columns, for the schema part) this check looked at. */
  examined: number;
  breaches: number;
  verdict: "pass" | "fail";
  /** The first few breaches found. */
  examples: Breach[];
  /** What the check could not decide or deliberately bounded (samples, skips). */
  notes: string[];
}

/** Collects one check's findings, keeping only the first `exampleLimit` breaches in full. */
export class CheckRecorder {
  examined = 0;
  private count = 0;
  private readonly examples: Breach[] = [];
  private readonly notes: string[] = [];

  constructor(
    readonly id: CheckId,
    private readonly exampleLimit: number,
  ) {}

  breach(breach: Breach): void {
    this.count += 1;
    if (this.examples.length < this.exampleLimit) this.examples.push(breach);
  }

  note(text: string): void {
    this.notes.push(text);
  }

  result(): CheckResult {
    return {
      id: this.id,
      title: CHECK_TITLES[this.id],
      examined: this.examined,
      breaches: this.count,
      verdict: this.count === 0 ? "pass" : "fail",
      examples: [...this.examples],
      notes: [...this.notes],
    };
  }
}
