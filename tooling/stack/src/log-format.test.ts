import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createLogFormatter } from "./log-format";

/** Real pino JSON lines, as a service writes them. */
function pinoLines(write: (logger: pino.Logger) => void): string[] {
  const lines: string[] = [];
  const logger = pino({ name: "messenger" }, new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk).trimEnd()), done()) }));
  write(logger);
  return lines;
}

describe("createLogFormatter", () => {
  const format = createLogFormatter({ colorize: false });

  it("prints time, level and message, then the fields, every line prefixed with the service", () => {
    const [line] = pinoLines((logger) => logger.info({ port: 4100 }, "messenger listening"));
    const out = format("messenger", line!).split("\n");
    expect(out[0]).toMatch(/^\[messenger\] \[\d\d:\d\d:\d\d\] INFO: messenger listening$/);
    expect(out[1]).toBe("[messenger]     port: 4100");
    expect(out.join("\n")).not.toMatch(/pid|hostname/);
  });

  it("prints an error's stack on lines of its own, not as one JSON line", () => {
    const [line] = pinoLines((logger) => logger.error({ err: new Error("boom") }, "request failed"));
    const out = format("facebook", line!).split("\n");
    expect(out[0]).toMatch(/^\[facebook\] \[\d\d:\d\d:\d\d\] ERROR: request failed$/);
    const stackStart = out.findIndex((text) => text.slice("[facebook] ".length).trim() === "Error: boom");
    expect(stackStart).toBeGreaterThan(0);
    expect(out[stackStart + 1]).toMatch(/^\[facebook\] +at .*log-format\.test\.ts/);
    expect(out.every((text) => text.startsWith("[facebook] "))).toBe(true);
  });

  it("passes lines that are not pino JSON through, prefixed", () => {
    expect(format("web", "VITE ready in 300 ms")).toBe("[web] VITE ready in 300 ms");
    expect(format("web", "{not json")).toBe("[web] {not json");
  });

  it("colours the prefix by kind of service when colourised, messenger-2 like messenger", () => {
    const coloured = createLogFormatter({ colorize: true });
    expect(coloured("messenger-2", "plain")).toBe("\x1b[36m[messenger-2]\x1b[0m plain");
  });
});
