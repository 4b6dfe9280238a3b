// The properties issue 3 asks of the consent rules, checked with fast-check over random
// accounts, regimes, timelines and scripts of user actions.
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  accountArb,
  countryArb,
  DAY,
  decisions,
  regimeArb,
  registeredAtArb,
  runScript,
  scriptArb,
  timelineArb,
  type Action,
  type Step,
} from "../test/arbitraries";
import {
  acceptTerms,
  canChangeShareChoice,
  mayShare,
  newAccount,
  optOutInSettings,
  PURPOSES,
  regimeFor,
  REGULATORY_EVENTS_2016,
  resolveRegime,
  type RegimeInput,
} from "./index";

const HAMBURG_ORDER = REGULATORY_EVENTS_2016.find((e) => e.scope === "DE")!.at;

/** Which successful user action may widen which decision. */
function mayWiden(decision: string, step: Step): boolean {
  if (!step.result?.ok) return false;
  const action: Action = step.action;
  if (decision.startsWith("deliver:")) {
    return action.type === "unblock" && decision.startsWith(`deliver:${action.business}:`);
  }
  // Only accepting terms not accepted before may widen sharing, service or the choice.
  return action.type === "accept" && step.before.terms?.version !== step.after.terms?.version;
}

describe("consent rules (properties)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("no decision ever widens without a user action", () => {
    fc.assert(
      fc.property(accountArb, scriptArb, regimeArb, timelineArb, (account, script, regime, timeline) => {
        const steps = runScript(account, script, regime, timeline);
        let previous = decisions(newAccount(account, timeline), account.registeredAt, regime, timeline);
        for (const step of steps) {
          const now = decisions(step.after, step.at, regime, timeline);
          for (const [name, allowed] of Object.entries(now)) {
            if (allowed && previous[name] === false && !mayWiden(name, step)) {
              throw new Error(`${name} widened at ${step.at.toISOString()} after ${JSON.stringify(step.action)}`);
            }
          }
          previous = now;
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("a share choice after the window is refused, and within it is allowed", () => {
    fc.assert(
      fc.property(
        timelineArb,
        countryArb,
        fc.integer({ min: 0, max: 60 * DAY }),
        fc.integer({ min: 0, max: 120 * DAY }),
        (timeline, country, acceptDelay, choiceDelay) => {
          const registeredAt = new Date(timeline.announcedAt.getTime() - 100 * DAY);
          const acceptedAt = new Date(timeline.announcedAt.getTime() + acceptDelay);
          const accepted = acceptTerms(
            newAccount({ registeredAt, country }, timeline),
            { version: "2016-08-25", shareWithFacebook: true, at: acceptedAt },
            { timeline },
          );
          if (!accepted.ok) throw new Error(accepted.refusal.message);
          const at = new Date(acceptedAt.getTime() + choiceDelay);
          const result = optOutInSettings(accepted.state, at);
          if (choiceDelay >= timeline.optOutWindowMs) {
            expect(result.ok ? "ok" : result.refusal.code).toBe("choice-window-closed");
            expect(canChangeShareChoice(accepted.state, at)).toBe(false);
          } else {
            expect(result.ok).toBe(true);
            expect(canChangeShareChoice(accepted.state, at)).toBe(true);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("users registered after the change have no opt-out under optout-2016", () => {
    fc.assert(
      fc.property(
        timelineArb,
        countryArb,
        fc.integer({ min: 0, max: 200 * DAY }),
        scriptArb,
        (timeline, country, afterAnnouncement, script) => {
          const registeredAt = new Date(timeline.announcedAt.getTime() + afterAnnouncement);
          for (const step of runScript({ registeredAt, country, kind: "personal" }, script, "optout-2016", timeline)) {
            const { action, result } = step;
            if (action.type === "optOut" || (action.type === "accept" && action.version === "2016-08-25" && !action.shareWithFacebook)) {
              expect(result?.ok).toBe(false);
            }
            expect(canChangeShareChoice(step.after, step.at)).toBe(false);
            if (step.after.terms?.version === "2016-08-25") {
              expect(mayShare(step.after, "ads", step.at, "optout-2016")).toBe(true);
              expect(mayShare(step.after, "product", step.at, "optout-2016")).toBe(true);
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("opted-out accounts never pass ads or product, under any regime", () => {
    fc.assert(
      fc.property(accountArb, scriptArb, regimeArb, timelineArb, fc.integer({ min: 0, max: 400 * DAY }), (account, script, regime, timeline, later) => {
        for (const step of runScript(account, script, regime, timeline)) {
          if (step.after.share?.shareWithFacebook !== false) continue;
          for (const at of [step.at, new Date(step.at.getTime() + later)]) {
            expect(mayShare(step.after, "ads", at, regime)).toBe(false);
            expect(mayShare(step.after, "product", at, regime)).toBe(false);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("DE accounts never pass anything while de-ban-2016 applies to them (historical-2016: from 2016-09-27)", () => {
    const deBan: fc.Arbitrary<RegimeInput> = fc.oneof(
      fc.constant<RegimeInput>("de-ban-2016"),
      fc.constant<RegimeInput>("historical-2016"),
      regimeArb.map((r): RegimeInput => {
        const { dated: _dated, ...spec } = resolveRegime(r);
        return { ...spec, byCountry: { ...spec.byCountry, DE: "de-ban-2016" } };
      }),
    );
    fc.assert(
      fc.property(registeredAtArb, scriptArb, deBan, timelineArb, fc.integer({ min: 0, max: 400 * DAY }), (registeredAt, script, regime, timeline, later) => {
        for (const step of runScript({ registeredAt, country: "DE", kind: "personal" }, script, regime, timeline)) {
          for (const at of [step.at, new Date(step.at.getTime() + later)]) {
            const banned = regimeFor(regime, "DE", at) === "de-ban-2016";
            expect(banned || (regime === "historical-2016" && at.getTime() < HAMBURG_ORDER.getTime())).toBe(true);
            if (banned) for (const purpose of PURPOSES) expect(mayShare(step.after, purpose, at, regime)).toBe(false);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("the same inputs always give the same answers, and inputs are not mutated", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    fc.assert(
      fc.property(accountArb, scriptArb, regimeArb, timelineArb, (account, script, regime, timeline) => {
        const regimeCopy = structuredClone(regime);
        // Two runs under different wall clocks: a rule that read the clock would disagree.
        vi.setSystemTime(new Date("2001-01-01T00:00:00Z"));
        const first = runScript(account, script, regime, timeline);
        vi.setSystemTime(new Date("2031-06-01T00:00:00Z"));
        const second = runScript(structuredClone(account), structuredClone(script), regimeCopy, timeline);
        expect(second.map((s) => s.result)).toEqual(first.map((s) => s.result));
        for (const [i, step] of first.entries()) {
          expect(step.mutatedInput).toBe(false);
          const snapshot = JSON.stringify(step.after);
          vi.setSystemTime(new Date("2001-01-01T00:00:00Z"));
          const once = decisions(step.after, step.at, regime, timeline);
          vi.setSystemTime(new Date("2031-06-01T00:00:00Z"));
          expect(decisions(step.after, step.at, regime, timeline)).toEqual(once);
          expect(decisions(second[i]!.after, second[i]!.at, regimeCopy, timeline)).toEqual(once);
          expect(JSON.stringify(step.after)).toBe(snapshot);
        }
        expect(regime).toEqual(regimeCopy);
      }),
      { numRuns: 300 },
    );
    vi.useRealTimers();
  });
});
