// Compat shim for `k6/crypto`.
import { randomBytes as nodeRandomBytes } from "node:crypto";

export function randomBytes(size: number): ArrayBuffer {
  const bytes = nodeRandomBytes(size);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
