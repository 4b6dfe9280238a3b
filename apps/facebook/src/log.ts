/** Structured logs (pino). Never log inputs: they carry phone numbers and hashes. */
import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      name: "facebook",
      level: options.level ?? "info",
      redact: { paths: ["authorization", "input", "*.hashes", "*.phoneNumber", "credential"], censor: "[redacted]" },
    },
    options.destination,
  );
}
