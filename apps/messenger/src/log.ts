/**
 * Structured logs (pino). Procedures log what happened and to whom — ids, sizes,
 * counts — and never an input object: ciphertext, credentials and phone numbers
 * stay out. The redaction list below is a second line of defence, not the first.
 */
import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      name: "messenger",
      level: options.level ?? "info",
      redact: {
        paths: [
          "req.headers.authorization",
          "authorization",
          "credential",
          "token",
          "content",
          "*.content",
          "*.credential",
          "input",
        ],
        censor: "[redacted]",
      },
    },
    options.destination,
  );
}
