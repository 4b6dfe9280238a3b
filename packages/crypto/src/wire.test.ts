import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { base64ByteLength, fromBase64, isBase64, kemPublicKeySchema, toBase64 } from "./wire";

describe("base64 helpers", () => {
  it("round-trip bytes of every length mod 3, and compute the decoded length without decoding", () => {
    for (const length of [0, 1, 2, 3, 31, 32, 33, 1569]) {
      const bytes = new Uint8Array(randomBytes(length));
      const encoded = toBase64(bytes);
      expect(isBase64(encoded)).toBe(true);
      expect(base64ByteLength(encoded)).toBe(length);
      expect(fromBase64(encoded)).toEqual(bytes);
    }
  });

  it("encodes only the viewed part of a subarray", () => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5]);
    expect(fromBase64(toBase64(bytes.subarray(1, 3)))).toEqual(new Uint8Array([2, 3]));
  });

  it("refuses what is not strict padded base64 instead of skipping characters", () => {
    for (const bad of ["abc", "ab!d", "YWJj\n", "YQ", "YW-j"]) {
      expect(() => fromBase64(bad)).toThrow(TypeError);
    }
  });

  it("accepts exactly the 1569-byte KEM public keys libsignal produces", () => {
    expect(kemPublicKeySchema.safeParse(toBase64(new Uint8Array(1569))).success).toBe(true);
    expect(kemPublicKeySchema.safeParse(toBase64(new Uint8Array(1568))).success).toBe(false);
    expect(kemPublicKeySchema.safeParse(toBase64(new Uint8Array(1570))).success).toBe(false);
  });
});
