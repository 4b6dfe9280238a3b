// Compat shim for `k6/crypto`.
import { createHash, randomBytes as nodeRandomBytes } from "node:crypto";

export function randomBytes(size: number): ArrayBuffer {
  const bytes = nodeRandomBytes(size);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Only the hex output the scenarios use. */
export function sha256(input: string, encoding: "hex"): string {
  return createHash("sha256").update(input, "utf8").digest(encoding);
}

export default { randomBytes, sha256 };
