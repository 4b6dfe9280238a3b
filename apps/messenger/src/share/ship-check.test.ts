/** The narrowing at the door, on its own: it only ever removes. */
import { describe, expect, it } from "vitest";
import { shareableFields, type ConsentState, type SharedFields } from "@handshake/consent";
import { narrowFields } from "./ship-check";

const fields: SharedFields = {
  phoneNumber: { value: "+4915100000001", purposes: ["ads", "product", "metrics", "security", "spam"] },
  os: { value: "android", purposes: ["metrics", "security", "infrastructure"] },
  activeDaysCount: { value: 3, purposes: ["ads", "product", "metrics"] },
};

describe("narrowFields", () => {
  it("keeps a purpose only where the event had it and it is allowed now; drops fields left with none", () => {
    expect(narrowFields(fields, { phoneNumber: ["security", "spam", "ads"], os: ["metrics"], activeDaysCount: ["infrastructure"] })).toEqual({
      phoneNumber: { value: "+4915100000001", purposes: ["ads", "security", "spam"] },
      os: { value: "android", purposes: ["metrics"] },
    });
  });

  it("never widens: a purpose allowed now but absent from the event stays absent", () => {
    const narrow: SharedFields = { os: { value: "android", purposes: ["metrics"] } };
    expect(narrowFields(narrow, { os: ["metrics", "security", "infrastructure"], country: ["ads"] })).toEqual(narrow);
  });

  it("under the Hamburg order a German account's snapshot narrows to nothing; an Indian one is untouched", () => {
    const accepted = (country: string): ConsentState => ({
      kind: "personal",
      country,
      registeredAt: new Date("2016-01-01T00:00:00Z"),
      terms: { version: "2016-08-25", acceptedAt: new Date("2016-08-26T00:00:00Z") },
      share: { shareWithFacebook: true, method: "ticked-at-acceptance", madeAt: new Date("2016-08-26T00:00:00Z"), finalAt: new Date("2016-08-26T00:00:00Z") },
      businesses: {},
    });
    const before = new Date("2016-09-26T23:59:59Z");
    const after = new Date("2016-09-27T00:00:01Z");
    const german = narrowFields(fields, shareableFields(accepted("DE"), before, "historical-2016"));
    expect(german).toEqual(fields);
    expect(narrowFields(german, shareableFields(accepted("DE"), after, "historical-2016"))).toEqual({});
    expect(narrowFields(fields, shareableFields(accepted("IN"), after, "historical-2016"))).toEqual(fields);
  });
});
