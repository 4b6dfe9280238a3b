/** How much load and how long each fault lasts: the short form (CI) and the full form (benchmark). */
export interface SuiteSize {
  name: "short" | "full";
  /** Sender → recipient pairs per fault. */
  pairs: number;
  /** Accounts per fault that accept the terms (and some opt out) while the fault happens. */
  consentAccounts: number;
  /** Pause between two messages of one sender. */
  sendIntervalMs: number;
  /** Load before the fault is injected. */
  warmupMs: number;
  /** Load after the fault healed, before sending stops. */
  cooldownMs: number;
  /** Consent changes are spread over this long (from the start of the load). */
  consentSpreadMs: number;
  /** How long the Facebook side stays down in the outage fault (the issue says 20 s). */
  facebookOutageMs: number;
  /** How long PostgreSQL stays down. */
  postgresDownMs: number;
  /** After the load stops: time allowed for deliveries and share events to catch up. */
  catchUpMs: number;
  /** A sender gives up on one message after this long (the server never came back). */
  giveUpMs: number;
  /** Subscriptions held by the socket that never reads, and large messages sent to it. */
  slowSubscriptions: number;
  slowMessages: number;
  /** Subscriptions a flooding socket asks for at once. */
  floodSubscriptions: number;
}

export const SHORT: SuiteSize = {
  name: "short",
  pairs: 6,
  consentAccounts: 9,
  sendIntervalMs: 25,
  warmupMs: 1_200,
  cooldownMs: 500,
  consentSpreadMs: 1_500,
  facebookOutageMs: 4_000,
  postgresDownMs: 1_500,
  catchUpMs: 15_000,
  giveUpMs: 20_000,
  slowSubscriptions: 1_000,
  slowMessages: 6,
  floodSubscriptions: 1_000,
};

export const FULL: SuiteSize = {
  name: "full",
  pairs: 24,
  consentAccounts: 40,
  sendIntervalMs: 5,
  warmupMs: 3_000,
  cooldownMs: 2_000,
  consentSpreadMs: 5_000,
  facebookOutageMs: 20_000,
  postgresDownMs: 5_000,
  catchUpMs: 40_000,
  giveUpMs: 45_000,
  slowSubscriptions: 2_000,
  slowMessages: 20,
  floodSubscriptions: 5_000,
};
