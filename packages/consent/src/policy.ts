import { z } from "zod";

/**
 * The two policy versions of the simulation, named by the date they were published.
 *
 * - `2012-07-07`: WhatsApp's Terms of Service / Privacy Policy in force before the change
 *   ("Last modified: July 7, 2012" on whatsapp.com/legal as archived by the Wayback Machine;
 *   the exact day is an assumption of this model, only "before 2016-08-25" matters).
 * - `2016-08-25`: the updated terms announced in "Looking ahead for WhatsApp",
 *   https://blog.whatsapp.com/looking-ahead-for-whats-app (2016-08-25), which allow
 *   sharing account information with Facebook.
 */
export const POLICY_VERSIONS = ["2012-07-07", "2016-08-25"] as const;

export type PolicyVersion = (typeof POLICY_VERSIONS)[number];

/** Validates a policy version string from outside (e.g. a `terms.accept` input). */
export const policyVersionSchema = z.enum(POLICY_VERSIONS);

export interface Policy {
  readonly version: PolicyVersion;
  readonly title: string;
  /** Whether accepting this version allows sharing account information with Facebook at all. */
  readonly sharesWithFacebook: boolean;
  readonly source: string;
}

/** The policy catalogue, oldest first. */
export const POLICIES: Readonly<Record<PolicyVersion, Policy>> = {
  "2012-07-07": {
    version: "2012-07-07",
    title: "WhatsApp Terms of Service and Privacy Policy (2012)",
    sharesWithFacebook: false,
    source: "https://web.archive.org/web/2016/https://www.whatsapp.com/legal/",
  },
  "2016-08-25": {
    version: "2016-08-25",
    title: "WhatsApp Terms of Service and Privacy Policy (2016-08-25)",
    sharesWithFacebook: true,
    source: "https://blog.whatsapp.com/looking-ahead-for-whats-app",
  },
};

/** The version that asks for the Facebook share choice. */
export const SHARING_POLICY_VERSION: PolicyVersion = "2016-08-25";

/** True when `version` names a policy in the catalogue (narrows an unvalidated string). */
export function isPolicyVersion(version: string): version is PolicyVersion {
  return (POLICY_VERSIONS as readonly string[]).includes(version);
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * When things happen. All decisions that depend on the rollout take a `Timeline`
 * (defaulting to `HISTORICAL_TIMELINE`), so experiments can move or stretch it.
 */
export interface Timeline {
  /** The new terms are published and existing users are prompted to accept them. */
  readonly announcedAt: Date;
  /** Existing users who have not accepted by then lose service until they accept. */
  readonly acceptanceDeadline: Date;
  /** After accepting, the share choice stays open in Settings > Account for this long. */
  readonly optOutWindowMs: number;
}

/** 2016-08-25, the day the new terms were announced (blog post above). Midnight UTC is a modelling choice. */
export const ANNOUNCED_2016 = new Date("2016-08-25T00:00:00Z");

export interface TimelineParameters {
  readonly announcedAt?: Date;
  /** Days after the announcement by which existing users must accept. Default 30. */
  readonly acceptanceDays?: number;
  /** Days after acceptance during which the share choice can still be turned off. Default 30. */
  readonly optOutWindowDays?: number;
}

/**
 * Builds a timeline. Defaults follow 2016: 30 days to accept (press coverage gave
 * 2016-09-25 as the date sharing would start, e.g. The Hacker News 2016-11-08; treating it
 * as the acceptance deadline is an assumption), and 30 days after accepting to change the
 * choice in Settings (WhatsApp FAQ "How do I choose not to share my account information
 * with Facebook", 2016).
 */
export function makeTimeline(parameters: TimelineParameters = {}): Timeline {
  const announcedAt = parameters.announcedAt ?? ANNOUNCED_2016;
  const acceptanceDays = parameters.acceptanceDays ?? 30;
  const optOutWindowDays = parameters.optOutWindowDays ?? 30;
  return {
    announcedAt: new Date(announcedAt.getTime()),
    acceptanceDeadline: new Date(announcedAt.getTime() + acceptanceDays * DAY_MS),
    optOutWindowMs: optOutWindowDays * DAY_MS,
  };
}

/** The 2016 timeline with the default 30-day deadline and window. */
export const HISTORICAL_TIMELINE: Timeline = makeTimeline();

/**
 * The policy a user is asked to accept at `at`: the 2012 terms before the announcement,
 * the 2016 terms from it on.
 */
export function policyInForce(at: Date, timeline: Timeline = HISTORICAL_TIMELINE): PolicyVersion {
  return at.getTime() < timeline.announcedAt.getTime() ? "2012-07-07" : "2016-08-25";
}

/** One regulator's action in 2016, as data for timelines and dashboards. */
export interface RegulatoryEvent {
  readonly at: Date;
  readonly authority: string;
  /** ISO 3166-1 alpha-2 countries concerned (the whole EU for the EU-wide pause). */
  readonly scope: "DE" | "GB" | "EU";
  /** The regime that models the effect of this action (see regimes.ts). */
  readonly regime: "de-ban-2016" | "eu-pause-2016";
  readonly summary: string;
  readonly source: string;
  /** What in this entry is our assumption rather than a sourced fact. */
  readonly assumption?: string;
}

/** Regulators' responses in 2016. */
export const REGULATORY_EVENTS_2016: readonly RegulatoryEvent[] = [
  {
    at: new Date("2016-09-27T00:00:00Z"),
    authority: "Hamburg Commissioner for Data Protection and Freedom of Information (HmbBfDI)",
    scope: "DE",
    regime: "de-ban-2016",
    summary:
      "Administrative order (dated 2016-09-23, announced 2016-09-27) forbidding Facebook to collect and store data of German WhatsApp users and ordering deletion of data already received.",
    source:
      "HmbBfDI press release 2016-09-27; VG Hamburg 13 E 5912/16 (2017-04-24) cites the order of 2016-09-23",
  },
  {
    at: new Date("2016-11-07T00:00:00Z"),
    authority: "UK Information Commissioner's Office (ICO)",
    scope: "GB",
    regime: "eu-pause-2016",
    summary:
      "Facebook agreed to pause using UK WhatsApp users' data for advertising and product improvement purposes.",
    source: "ICO blog, Elizabeth Denham, 2016-11-07; Fast Company 2016-11-08",
  },
  {
    at: new Date("2016-11-16T00:00:00Z"),
    authority: "EU data protection authorities (Article 29 Working Party letter of 2016-10-27)",
    scope: "EU",
    regime: "eu-pause-2016",
    summary:
      "Facebook paused the use of European users' WhatsApp data for product and advertising purposes; sharing for spam fighting and other 'administrative' purposes continued.",
    source: "Business Insider / TechCrunch, November 2016",
    assumption: "The exact day of the EU-wide pause is not pinned down by our sources; mid-November 2016 is assumed.",
  },
];
