import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { startNatsServer } from "./nats-server";

const reachable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

describe("startNatsServer", () => {
  it("starts a real nats-server on a free loopback port, restarts on the same port, and kills it by pid", async () => {
    const first = await startNatsServer();
    expect(first.url).toBe(`nats://127.0.0.1:${first.port}`);
    expect(await reachable(first.port)).toBe(true);
    await first.kill();
    expect(await reachable(first.port)).toBe(false);
    const again = await startNatsServer({ port: first.port });
    expect(again.port).toBe(first.port);
    expect(await reachable(again.port)).toBe(true);
    await again.stop();
    expect(() => process.kill(again.pid, 0)).toThrow();
  });
});
