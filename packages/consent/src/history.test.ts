import { describe, expect, it } from "vitest";
import { applyChoice, RegimeTimeline } from "./history";
import { newAccount } from "./state";

const at = (iso: string) => new Date(iso);

describe("applyChoice", () => {
  it("replays an acceptance under the regime given, so the box the user saw decides the method", () => {
    const state = newAccount({ registeredAt: at("2016-01-01T00:00:00Z"), country: "IN" });
    const choice = { kind: "terms-accepted", version: "2016-08-25", shareWithFacebook: true } as const;
    const underOptout = applyChoice(state, choice, at("2016-08-26T00:00:00Z"), { regime: "optout-2016" });
    const underOptin = applyChoice(state, choice, at("2016-08-26T00:00:00Z"), { regime: "optin" });
    expect(underOptout.ok && underOptout.state.share?.method).toBe("default-ticked");
    expect(underOptin.ok && underOptin.state.share?.method).toBe("ticked-at-acceptance");
  });

  it("refuses what the rules refuse (an opt-out before accepting)", () => {
    const state = newAccount({ registeredAt: at("2016-01-01T00:00:00Z"), country: "IN" });
    const result = applyChoice(state, { kind: "share-opted-out" }, at("2016-08-26T00:00:00Z"));
    expect(result.ok ? null : result.refusal.code).toBe("terms-not-accepted");
  });
});

describe("RegimeTimeline", () => {
  it("answers the regime in force at any instant; the first change also covers the time before it", () => {
    const timeline = new RegimeTimeline(
      [
        { regime: "optout-2016", at: at("2016-08-20T00:00:00Z") },
        { regime: "historical-2016", at: at("2016-09-27T00:00:00Z") },
      ],
      "none",
    );
    expect(timeline.at(at("2016-01-01T00:00:00Z"))).toBe("optout-2016");
    expect(timeline.at(at("2016-09-26T23:59:59Z"))).toBe("optout-2016");
    expect(timeline.at(at("2016-09-27T00:00:00Z"))).toBe("historical-2016");
    expect(timeline.current).toBe("historical-2016");
    expect(new RegimeTimeline([], "none").at(at("2016-09-01T00:00:00Z"))).toBe("none");
  });
});
