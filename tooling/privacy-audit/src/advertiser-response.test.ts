import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isCountKey, scanAdvertiserResponse, type KnownIdentifiers } from "./advertiser-response";
import { CiphertextIndex, MessageIdIndex, PairIndex } from "./fingerprints";

const known: KnownIdentifiers = {
  profileIds: new Set([0, 1, 5, 100, 1000, 2000, 10000, 123456]),
  phoneDigits: new Set(["4915112345678", "919810000001"]),
};
const kinds = (response: unknown) => scanAdvertiserResponse(response, known).map((f) => `${f.kind}@${f.path}`);

describe("advertiser responses: what counts as an identifier", () => {
  it("sizes, bounds, counts, audience ids and times are not identifiers, even when equal to profile ids", () => {
    expect(
      kinds({
        data: {
          audienceId: "12345678-1234-4234-8234-123456789012",
          uploadedRows: 10000,
          sizeRange: { lower: 1000, upper: 2000 },
          approximateSize: [1000, 2000],
          minimum: 100,
          status: 200,
          createdAt: "2016-09-28T00:00:00.123Z",
          message: "at most 10000 hashes per call, got 10001 (sizes 1000-2000)",
        },
      }),
    ).toEqual([]);
  });

  it("a phone number in E.164, formatted, as a bare digit run, or as a JSON number", () => {
    expect(kinds({ a: "+49 151 12345678" })).toEqual(["phone@a"]);
    expect(kinds({ a: "call 4915112345678 now" })).toEqual(["phone@a"]);
    expect(kinds({ a: "91 98100 00001" })).toEqual(["phone@a"]);
    expect(kinds({ a: 4915112345678 })).toEqual(["phone@a"]);
    expect(kinds({ "+4915112345678": true })).toEqual(["phone@+4915112345678 (key)"]);
  });

  it("a SHA-256 hex hash, and its digits are not also taken for a phone", () => {
    const hash = createHash("sha256").update("4915112345678").digest("hex");
    expect(kinds({ sample: [hash] })).toEqual(["hash@sample[0]"]);
    for (let i = 0; i < 200; i++) {
      expect(kinds({ h: randomBytes(32).toString("hex") })).toEqual(["hash@h"]);
    }
  });

  it("a profile id: a number equal to a profiles.id outside count fields, as number, digit string, or under a key naming a profile", () => {
    expect(kinds({ data: { reach: [5] } })).toEqual(["profile-id@data.reach[0]"]);
    expect(kinds({ data: { who: "123456" } })).toEqual(["profile-id@data.who"]);
    expect(kinds({ data: { profileId: 77 } })).toEqual(["profile-id@data.profileId"]);
    expect(kinds({ data: { "123456": "x" } })).toEqual(["profile-id@data.123456 (key)"]);
    expect(kinds({ data: { matchedCount: 123456 } })).toEqual([]);
  });

  it("count keys are recognised by their last word", () => {
    expect(["uploadedRows", "size_range", "lower", "estimatedSize", "matchCount"].map(isCountKey)).toEqual([true, true, true, true, true]);
    expect(["profileId", "members", "sizeOwner", "id"].map(isCountKey)).toEqual([false, false, false, false]);
  });
});

describe("fingerprints of messenger data", () => {
  it("finds a ciphertext as hex, base64, base64url and as a fragment covering the middle", () => {
    const content = randomBytes(101);
    const index = new CiphertextIndex();
    expect(index.add("42", content)).toBe(true);
    expect(index.add("short", randomBytes(10))).toBe(false);
    expect(index.findIn(JSON.stringify({ x: content.toString("hex") }))).toBe("42");
    expect(index.findIn(JSON.stringify({ x: `\\x${content.toString("hex").toUpperCase()}` }))).toBe("42");
    expect(index.findIn(JSON.stringify({ x: `prefix:${content.toString("base64")}` }))).toBe("42");
    expect(index.findIn(content.toString("base64url"))).toBe("42");
    expect(index.findIn(randomBytes(101).toString("base64"))).toBeNull();
  });

  it("finds message ids with or without dashes, and pairs only when both ends are in one row", () => {
    const ids = new MessageIdIndex();
    ids.add("0F8FAD5B-D9CB-469F-A165-70867728950E");
    expect(ids.findIn('{"a":"0f8fad5b-d9cb-469f-a165-70867728950e"}')).toBe("0f8fad5b-d9cb-469f-a165-70867728950e");
    expect(ids.findIn('{"a":"x0f8fad5bd9cb469fa16570867728950ey"}')).toBe("0f8fad5b-d9cb-469f-a165-70867728950e");
    expect(ids.findIn('{"a":"7c9e6679-7425-40de-944b-e07fc1f90ae7"}')).toBeNull();
    const pairs = new PairIndex();
    pairs.add("a", "b");
    expect(pairs.findAmong(["b", "c", "a"])).toEqual(["b", "a"]);
    expect(pairs.findAmong(["a", "c"])).toBeNull();
  });
});
