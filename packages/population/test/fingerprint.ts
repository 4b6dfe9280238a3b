/**
 * A SHA-256 over users, contacts and Facebook profiles at fixed, spread-out ids:
 * the determinism test compares it between the test process and a child process.
 * Run alone: `tsx test/fingerprint.ts` prints the hex digest.
 */
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";
import { contactsOf, createSpec, facebookProfileAt, userAt } from "../src/index";

/** Digest of a deterministic selection of the default population. */
export function fingerprint(): string {
  const spec = createSpec();
  const h = createHash("sha256");
  for (let k = 0; k < 2000; k++) {
    const i = (k * 499_999_937) % spec.size;
    h.update(JSON.stringify(userAt(spec, i)));
    if (k % 20 === 0) h.update(JSON.stringify(contactsOf(spec, i)));
    h.update(JSON.stringify(facebookProfileAt(spec, spec.size + k * 7919)));
  }
  return h.digest("hex");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) process.stdout.write(fingerprint());
