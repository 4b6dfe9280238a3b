import { describe, expect, it } from "vitest";
import { formatLogLine } from "./log-lines";

describe("formatLogLine", () => {
  it("turns a pino line into time, level, message and fields", () => {
    const line = JSON.stringify({ level: 30, time: Date.UTC(2026, 0, 1, 12, 34, 56), pid: 1, hostname: "h", name: "messenger", msg: "listening", port: 4100 });
    expect(formatLogLine(line)).toBe("12:34:56 INFO  listening  port=4100");
  });

  it("passes other lines through", () => {
    expect(formatLogLine("plain text")).toBe("plain text");
    expect(formatLogLine("{not json")).toBe("{not json");
  });
});
