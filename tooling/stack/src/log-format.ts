/**
 * How `pnpm dev` prints the services' logs: each pino JSON line through
 * pino-pretty (time, level, message, then the fields; an error's stack on lines of
 * its own), every output line prefixed with the service's name so interleaved
 * services stay readable. Lines that are not pino JSON pass through, prefixed.
 */
import { prettyFactory } from "pino-pretty";

const COLOURS: Record<string, string> = { messenger: "\x1b[36m", facebook: "\x1b[34m", web: "\x1b[35m", stack: "\x1b[1m" };
const RESET = "\x1b[0m";

export interface LogFormatOptions {
  /** Colour levels and prefixes (default: when stdout is a terminal). */
  colorize?: boolean;
}

/** Returns `format(service, line)`: the line made readable, possibly several lines, each prefixed `[service] `. */
export function createLogFormatter(options: LogFormatOptions = {}): (service: string, line: string) => string {
  const colorize = options.colorize ?? Boolean(process.stdout.isTTY);
  const pretty = prettyFactory({
    colorize,
    translateTime: "SYS:HH:MM:ss",
    // The prefix names the service; pid and host are the same for every line.
    ignore: "pid,hostname,name",
  });
  return (service, line) => {
    // Services like messenger-2 take the colour of their kind.
    const colour = colorize ? (COLOURS[service] ?? COLOURS[service.replace(/-\d+$/, "")] ?? "") : "";
    const prefix = `${colour}[${service}]${colour ? RESET : ""} `;
    return pretty(line)
      .trimEnd()
      .split("\n")
      .map((text) => prefix + text)
      .join("\n");
  };
}
