import { describe, expect, it } from "vitest";
import {
  acceptTerms,
  canChangeShareChoice,
  canUseService,
  HISTORICAL_TIMELINE,
  makeTimeline,
  mayShare,
  newAccount,
  optOutInSettings,
  serviceRefusal,
  shareBoxFor,
  type ConsentState,
  type Result,
} from "./index";

const DAY = 24 * 60 * 60 * 1000;
const ANNOUNCED = Date.parse("2016-08-25T00:00:00Z");
const day = (n: number) => new Date(ANNOUNCED + n * DAY);

function ok(result: Result<ConsentState>): ConsentState {
  if (!result.ok) throw new Error(`refused: ${result.refusal.code}: ${result.refusal.message}`);
  return result.state;
}
function code(result: Result<ConsentState>): string {
  return result.ok ? "ok" : result.refusal.code;
}

const existing = () => newAccount({ registeredAt: new Date("2014-03-01T00:00:00Z"), country: "IN" });

describe("timeline", () => {
  it("defaults to a deadline 30 days after 2016-08-25 and a 30-day window", () => {
    expect(HISTORICAL_TIMELINE.acceptanceDeadline.toISOString()).toBe("2016-09-24T00:00:00.000Z");
    expect(HISTORICAL_TIMELINE.optOutWindowMs).toBe(30 * DAY);
    const custom = makeTimeline({ acceptanceDays: 10, optOutWindowDays: 5 });
    expect(custom.acceptanceDeadline.toISOString()).toBe("2016-09-04T00:00:00.000Z");
    expect(custom.optOutWindowMs).toBe(5 * DAY);
  });

  it("an existing user may opt out in Settings on day 29 after accepting but not on day 31", () => {
    const accepted = ok(acceptTerms(existing(), { version: "2016-08-25", shareWithFacebook: true, at: day(1) }));
    expect(accepted.share).toMatchObject({ shareWithFacebook: true, method: "default-ticked" });
    expect(accepted.share?.finalAt.toISOString()).toBe(day(31).toISOString());

    const day29 = optOutInSettings(accepted, day(1 + 29));
    expect(code(day29)).toBe("ok");
    expect(ok(day29).share).toMatchObject({ shareWithFacebook: false, method: "settings-within-window" });
    expect(mayShare(ok(day29), "ads", day(30), "optout-2016")).toBe(false);

    expect(code(optOutInSettings(accepted, day(1 + 31)))).toBe("choice-window-closed");
    expect(canChangeShareChoice(accepted, day(1 + 29))).toBe(true);
    expect(canChangeShareChoice(accepted, day(1 + 31))).toBe(false);
    // The window closes exactly 30 days after acceptance.
    expect(canChangeShareChoice(accepted, new Date(day(31).getTime() - 1))).toBe(true);
    expect(canChangeShareChoice(accepted, day(31))).toBe(false);
  });

  it("the opt-out window follows its parameter", () => {
    const timeline = makeTimeline({ optOutWindowDays: 7 });
    const accepted = ok(acceptTerms(existing(), { version: "2016-08-25", shareWithFacebook: true, at: day(0) }, { timeline }));
    expect(canChangeShareChoice(accepted, day(6))).toBe(true);
    expect(canChangeShareChoice(accepted, day(8))).toBe(false);
  });

  it("unticking the box at acceptance is final at once and keeps the non-choice purposes", () => {
    const state = ok(acceptTerms(existing(), { version: "2016-08-25", shareWithFacebook: false, at: day(2) }));
    expect(state.share).toMatchObject({ shareWithFacebook: false, method: "unticked-at-acceptance" });
    expect(state.share?.finalAt.toISOString()).toBe(day(2).toISOString());
    expect(canChangeShareChoice(state, day(3))).toBe(false);
    expect(mayShare(state, "ads", day(3), "optout-2016")).toBe(false);
    expect(mayShare(state, "product", day(3), "optout-2016")).toBe(false);
    for (const purpose of ["metrics", "security", "spam", "infrastructure"] as const) {
      expect(mayShare(state, purpose, day(3), "optout-2016")).toBe(true);
    }
  });

  it("a holdout keeps service until the deadline, loses it after, and regains it on accepting", () => {
    const holdout = existing();
    expect(canUseService(holdout, day(29))).toBe(true);
    expect(canUseService(holdout, new Date(HISTORICAL_TIMELINE.acceptanceDeadline.getTime() - 1))).toBe(true);
    expect(canUseService(holdout, HISTORICAL_TIMELINE.acceptanceDeadline)).toBe(false);
    expect(serviceRefusal(holdout, day(45))?.code).toBe("terms-not-accepted");
    expect(mayShare(holdout, "spam", day(45), "optout-2016")).toBe(false);

    const accepted = ok(acceptTerms(holdout, { version: "2016-08-25", shareWithFacebook: true, at: day(45) }));
    expect(canUseService(accepted, day(45))).toBe(true);
    expect(canUseService(accepted, day(400))).toBe(true);
    // The 30-day window runs from the late acceptance, not from the announcement.
    expect(canChangeShareChoice(accepted, day(45 + 29))).toBe(true);
    expect(canChangeShareChoice(accepted, day(45 + 31))).toBe(false);
  });

  it("a new user is not offered a choice and is served only after accepting", () => {
    const fresh = newAccount({ registeredAt: day(10), country: "BR" });
    expect(fresh.terms).toBeNull();
    expect(shareBoxFor(fresh, day(10))).toBe("none");
    expect(canUseService(fresh, day(10))).toBe(false);
    expect(serviceRefusal(fresh, day(10))?.code).toBe("terms-not-accepted");

    expect(code(acceptTerms(fresh, { version: "2016-08-25", shareWithFacebook: false, at: day(10) }))).toBe("no-choice-for-new-users");
    const accepted = ok(acceptTerms(fresh, { version: "2016-08-25", shareWithFacebook: true, at: day(10) }));
    expect(accepted.share).toMatchObject({ shareWithFacebook: true, method: "not-offered" });
    expect(canUseService(accepted, day(10))).toBe(true);
    expect(canChangeShareChoice(accepted, day(11))).toBe(false);
    expect(code(optOutInSettings(accepted, day(11)))).toBe("no-choice-for-new-users");
    expect(mayShare(accepted, "ads", day(11), "optout-2016")).toBe(true);
  });

  it("under optin everyone sees an unticked box and only an explicit yes allows ads", () => {
    const fresh = newAccount({ registeredAt: day(10), country: "US" });
    expect(shareBoxFor(fresh, day(10), "optin")).toBe("unticked");
    expect(shareBoxFor(existing(), day(10), { base: "optout-2016", byCountry: { IN: "optin" } })).toBe("unticked");

    const no = ok(acceptTerms(fresh, { version: "2016-08-25", shareWithFacebook: false, at: day(10) }, { regime: "optin" }));
    expect(no.share?.method).toBe("left-unticked");
    expect(mayShare(no, "ads", day(11), "optin")).toBe(false);
    expect(mayShare(no, "spam", day(11), "optin")).toBe(true);

    const yes = ok(acceptTerms(fresh, { version: "2016-08-25", shareWithFacebook: true, at: day(10) }, { regime: "optin" }));
    expect(yes.share?.method).toBe("ticked-at-acceptance");
    expect(mayShare(yes, "ads", day(11), "optin")).toBe(true);

    // A pre-ticked box left alone (what happened) is not consent under optin.
    const defaulted = ok(acceptTerms(existing(), { version: "2016-08-25", shareWithFacebook: true, at: day(1) }));
    expect(mayShare(defaulted, "ads", day(2), "optin")).toBe(false);
    expect(mayShare(defaulted, "ads", day(2), "optout-2016")).toBe(true);
  });

  it("answers for past instants from the state: shared before a settings opt-out, not after", () => {
    const accepted = ok(acceptTerms(existing(), { version: "2016-08-25", shareWithFacebook: true, at: day(1) }));
    const optedOut = ok(optOutInSettings(accepted, day(10)));
    expect(mayShare(optedOut, "ads", day(0), "optout-2016")).toBe(false); // not accepted yet
    expect(mayShare(optedOut, "ads", day(5), "optout-2016")).toBe(true);
    expect(mayShare(optedOut, "ads", day(10), "optout-2016")).toBe(false);
    expect(mayShare(optedOut, "metrics", day(10), "optout-2016")).toBe(true);
  });
});

describe("refusals", () => {
  it("an unknown policy version is refused with a message naming the known ones", () => {
    const result = acceptTerms(existing(), { version: "2017-01-01", shareWithFacebook: true, at: day(1) });
    expect(result).toEqual({
      ok: false,
      refusal: { code: "unknown-policy-version", message: expect.stringContaining("2016-08-25") },
    });
  });

  it("opting out before accepting the 2016 terms is refused", () => {
    expect(code(optOutInSettings(existing(), day(1)))).toBe("terms-not-accepted");
    expect(canChangeShareChoice(existing(), day(1))).toBe(false);
  });

  it("accepting a policy that is not in force is refused", () => {
    expect(code(acceptTerms(existing(), { version: "2016-08-25", shareWithFacebook: true, at: day(-1) }))).toBe("not-current-policy");
    expect(code(acceptTerms(existing(), { version: "2012-07-07", shareWithFacebook: true, at: day(1) }))).toBe("not-current-policy");
  });

  it("accepting twice is refused, so a second acceptance cannot reopen the choice", () => {
    const declined = ok(acceptTerms(existing(), { version: "2016-08-25", shareWithFacebook: false, at: day(1) }));
    expect(code(acceptTerms(declined, { version: "2016-08-25", shareWithFacebook: true, at: day(2) }))).toBe("already-accepted");
  });

  it("a choice dated before the account's last change is refused", () => {
    const accepted = ok(acceptTerms(existing(), { version: "2016-08-25", shareWithFacebook: true, at: day(5) }));
    expect(code(optOutInSettings(accepted, day(4)))).toBe("out-of-order");
    const fresh = newAccount({ registeredAt: day(10), country: "BR" });
    expect(code(acceptTerms(fresh, { version: "2016-08-25", shareWithFacebook: true, at: day(9) }))).toBe("out-of-order");
  });

  it("opting out twice is refused", () => {
    const accepted = ok(acceptTerms(existing(), { version: "2016-08-25", shareWithFacebook: true, at: day(1) }));
    const once = ok(optOutInSettings(accepted, day(2)));
    expect(code(optOutInSettings(once, day(3)))).toBe("already-opted-out");
  });

  it("an invalid date is refused, not thrown", () => {
    expect(code(acceptTerms(existing(), { version: "2016-08-25", shareWithFacebook: true, at: new Date("nonsense") }))).toBe("invalid-time");
    expect(code(optOutInSettings(existing(), new Date(Number.NaN)))).toBe("invalid-time");
    expect(serviceRefusal(existing(), new Date(Number.NaN))?.code).toBe("invalid-time");
  });

  it("a check before registration is refused", () => {
    expect(serviceRefusal(newAccount({ registeredAt: day(10), country: "BR" }), day(9))?.code).toBe("not-registered");
  });

  it("a refusal leaves the state untouched", () => {
    const state = existing();
    const before = JSON.stringify(state);
    optOutInSettings(state, day(1));
    acceptTerms(state, { version: "nope", shareWithFacebook: true, at: day(1) });
    expect(JSON.stringify(state)).toBe(before);
  });
});
