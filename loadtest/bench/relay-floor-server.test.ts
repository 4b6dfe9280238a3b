/**
 * The floor server (`pnpm bench relay --floor`) must answer the bench clients as the
 * messenger does, or its figures compare nothing: a message crosses from a device on
 * one floor node to a device on another over a real nats-server, the recipient's ack
 * produces a delivery receipt on the sender's stream, and the messenger's own input
 * schemas refuse what the messenger refuses.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startNatsServer, type RunningNatsServer } from "@handshake/nats-server";

const here = path.dirname(fileURLToPath(import.meta.url));

interface Floor {
  child: ChildProcess;
  url: string;
  wsUrl: string;
}

function startFloor(natsUrl: string, node: number): Promise<Floor> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(here, "relay-floor-server.ts"), "-", natsUrl, `bench-node-${node}`], {
    cwd: here,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`floor server exited (${code})`)));
    createInterface({ input: child.stdout! }).once("line", (line) => {
      const ready = JSON.parse(line) as { url: string; wsUrl: string };
      resolve({ child, url: ready.url, wsUrl: ready.wsUrl });
    });
  });
}

type Frame = { id: number; result?: { type: string; id?: string; data?: unknown }; error?: { message: string } };

/** A bench-style client: raw tRPC ws frames, one inbox stream. */
class Device {
  readonly frames: Frame[] = [];
  private waiters: Array<() => void> = [];
  private nextId = 2;
  private constructor(
    readonly accountId: string,
    private readonly ws: WebSocket,
  ) {
    ws.on("message", (raw) => {
      this.frames.push(JSON.parse(raw.toString()) as Frame);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async connect(floor: Floor): Promise<Device> {
    const post = async (route: string, input: unknown) => {
      const response = await fetch(`${floor.url}/${route}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(input) });
      return ((await response.json()) as { result: { data: Record<string, string> } }).result.data;
    };
    const { sessionId } = await post("account.requestCode", { phoneNumber: "+4915100000001" });
    const { credential } = await post("account.register", { sessionId, code: "000000", device: {} });
    const ws = new WebSocket(`${floor.wsUrl}?connectionParams=1`);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const device = new Device(credential!, ws);
    ws.send(JSON.stringify({ method: "connectionParams", data: { token: credential } }));
    ws.send(JSON.stringify({ id: 1, method: "subscription", params: { path: "inbox.stream", input: {} } }));
    await device.until((f) => f.id === 1 && f.result?.type === "started");
    return device;
  }

  call(path: string, input: unknown): number {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method: "mutation", params: { path, input } }));
    return id;
  }

  async until(match: (frame: Frame) => boolean, timeoutMs = 5_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  close(): void {
    this.ws.terminate();
  }
}

describe("the relay floor server", () => {
  let nats: RunningNatsServer;
  let floors: Floor[];
  let sender: Device;
  let recipient: Device;

  beforeAll(async () => {
    nats = await startNatsServer();
    floors = await Promise.all([startFloor(nats.url, 0), startFloor(nats.url, 1)]);
    [sender, recipient] = await Promise.all([Device.connect(floors[0]!), Device.connect(floors[1]!)]);
  });

  afterAll(async () => {
    sender?.close();
    recipient?.close();
    for (const floor of floors ?? []) floor.child.kill("SIGKILL");
    await nats?.stop();
  });

  it("carries a message across nodes and answers its ack with a receipt, as the messenger does", async () => {
    const messageId = randomUUID();
    const content = Buffer.from("ciphertext bytes").toString("base64");
    const sendId = sender.call("message.send", { messageId, recipient: { accountId: recipient.accountId }, type: 1, content });
    const answer = await sender.until((f) => f.id === sendId);
    expect(answer.result?.data).toMatchObject({ duplicate: false });

    const delivered = await recipient.until((f) => f.id === 1 && f.result?.type === "data");
    const envelope = (delivered.result!.data as { data: Record<string, unknown> }).data;
    expect(envelope).toMatchObject({ type: 1, content, messageId, senderAccountId: sender.accountId, senderDeviceId: 1 });
    expect(delivered.result!.id).toBe(envelope.id);

    const ackId = recipient.call("inbox.ack", { ids: [delivered.result!.id] });
    expect((await recipient.until((f) => f.id === ackId)).result?.data).toEqual({ acknowledged: 1 });
    const receipt = await sender.until((f) => f.id === 1 && f.result?.type === "data");
    expect((receipt.result!.data as { data: Record<string, unknown> }).data).toMatchObject({ type: 5, messageId, senderAccountId: recipient.accountId });

    // Acknowledged once: a second ack of the same id deletes nothing.
    const again = recipient.call("inbox.ack", { ids: [delivered.result!.id] });
    expect((await recipient.until((f) => f.id === again)).result?.data).toEqual({ acknowledged: 0 });
  });

  it("refuses with the messenger's own schemas, and keeps serving", async () => {
    const bad = sender.call("message.send", { messageId: "not-a-uuid", recipient: { accountId: recipient.accountId }, type: 1, content: "!!" });
    expect((await sender.until((f) => f.id === bad)).error?.message).toMatch(/messageId|uuid/i);
    const tooMany = recipient.call("inbox.ack", { ids: Array.from({ length: 1001 }, (_, i) => String(i + 1)) });
    expect((await recipient.until((f) => f.id === tooMany)).error).toBeDefined();
    const good = sender.call("message.send", { messageId: randomUUID(), recipient: { accountId: recipient.accountId }, type: 1, content: "AAAA" });
    expect((await sender.until((f) => f.id === good)).result?.data).toMatchObject({ duplicate: false });
  });
});
