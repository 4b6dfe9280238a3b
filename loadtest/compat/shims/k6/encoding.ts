// Compat shim for `k6/encoding` (standard base64 only).
export function b64encode(input: string | ArrayBuffer): string {
  return (typeof input === "string" ? Buffer.from(input) : Buffer.from(input)).toString("base64");
}

export function b64decode(input: string): ArrayBuffer {
  const bytes = Buffer.from(input, "base64");
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
