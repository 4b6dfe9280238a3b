/**
 * The relay's floor, for `pnpm bench relay --floor`: a server that speaks the
 * messenger's API to the same bench clients, frame for frame, with none of its
 * storage. Same tRPC (and its patch), same ws adapter, the messenger's own input
 * schemas for `message.send` and `inbox.ack`, one middleware level for the device
 * like `serviceProcedure`, the messenger's frame coalescing (`SocketBudget`) and,
 * with several nodes, its NATS bus carrying envelopes whole. What it leaves out:
 * PostgreSQL (the queue writer, postgres.js, reads on reconnect), consent,
 * restriction and credential caches, rate limits, presence and keep-alive.
 *
 * Per message the clients see what the messenger does: the send's answer, the
 * envelope on the recipient's `inbox.stream`, the recipient's ack and its answer,
 * a server delivery receipt on the sender's stream, the sender's ack of it. So the
 * servers' CPU per delivered message here is what tRPC, WebSocket frames, JSON,
 * input validation and NATS cost before anything is stored: the part of the
 * relay's µs/msg that no change to storage or caches can remove.
 *
 * Nothing is durable and nothing is checked: a credential is the account id it
 * names (any node accepts it without a lookup), registration hands out ids.
 * Never a messenger. Prints the same ready line as relay-server.ts.
 *
 *   tsx relay-floor-server.ts <ignored: no database> [nats url] [node name, bench-node-K]
 */
import { randomUUID } from "node:crypto";
import { initTRPC, tracked, TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { applyWSSHandler, type CreateWSSContextFnOptions } from "@trpc/server/adapters/ws";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { z } from "zod";
import { EnvelopeType, type DeliveredEnvelope } from "@handshake/crypto/wire";
import { createLogger } from "@handshake/messenger/log";
import { LocalInboxBus, deviceKey, type DeviceAddress, type InboxBus } from "@handshake/messenger/relay/bus";
import { NatsInboxBus } from "@handshake/messenger/relay/nats-bus";
import { SocketBudget } from "@handshake/messenger/relay/socket-budget";
import { ackInput } from "@handshake/messenger/router/inbox";
import { sendInput } from "@handshake/messenger/router/message";

const [, natsUrl, nodeArg] = process.argv.slice(2);
const logger = createLogger({ level: "silent" });
/** This node's index (`bench-node-K`), 0 to 63: the low bits of its envelope ids. */
const node = BigInt(Number(nodeArg?.match(/\d+$/)?.[0] ?? 0) % 64);
const bus: InboxBus = natsUrl ? await NatsInboxBus.connect({ url: natsUrl, nodeId: `floor-${node}`, logger }) : new LocalInboxBus();

/** Envelope ids unique over the nodes: a counter per node, the node's index in the low bits. */
let counter = 0n;
const nextId = () => String(++counter * 64n + node + 1n);

/**
 * Envelopes are announced once per event-loop turn, all together, as the messenger's
 * queue writer announces a committed batch: its NATS publishes then leave in one
 * write and its local deliveries share the turn's frame coalescing. (Announced one
 * by one, each send cost NATS a write and a wake-up of its own.)
 */
let announcements: { device: DeviceAddress; envelope: DeliveredEnvelope }[] = [];
function announce(device: DeviceAddress, envelope: DeliveredEnvelope): void {
  if (announcements.length === 0) setImmediate(announceAll);
  announcements.push({ device, envelope });
}
function announceAll(): void {
  const batch = announcements;
  announcements = [];
  for (const { device, envelope } of batch) bus.publish(device, { envelope, previousId: null });
}

/** Envelopes delivered to each device on this node and not yet acknowledged. */
const unacked = new Map<string, Map<string, DeliveredEnvelope>>();

interface Context {
  device: DeviceAddress | null;
}
const t = initTRPC.context<Context>().create();
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** As `serviceProcedure`: one middleware level that puts the device on the context. */
const deviceProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.device) throw new TRPCError({ code: "UNAUTHORIZED", message: "a credential (an account id) is required" });
  return next({ ctx: { device: ctx.device } });
});

const router = t.router({
  account: {
    requestCode: t.procedure.input(z.object({ phoneNumber: z.string() })).mutation(() => ({ sessionId: randomUUID() })),
    register: t.procedure.input(z.object({ sessionId: z.string(), code: z.string() }).loose()).mutation(() => {
      const accountId = randomUUID();
      return { accountId, credential: accountId };
    }),
  },
  phoneSimulator: {
    readCode: t.procedure.input(z.object({ sessionId: z.string() })).query(() => ({ code: "000000" })),
  },
  message: {
    send: deviceProcedure.input(sendInput).mutation(({ ctx, input }) => {
      const envelope: DeliveredEnvelope = {
        id: nextId(),
        type: input.type,
        senderAccountId: ctx.device.accountId,
        senderDeviceId: ctx.device.deviceId,
        messageId: input.messageId,
        content: input.content,
        serverTimestamp: Date.now(),
      };
      announce(input.recipient, envelope);
      return { envelopeId: envelope.id, serverTimestamp: envelope.serverTimestamp, duplicate: false };
    }),
  },
  inbox: {
    stream: deviceProcedure.input(z.object({ lastEventId: z.string().nullish() }).optional()).subscription(({ ctx, signal }) => streamOf(ctx.device, signal)),
    ack: deviceProcedure.input(ackInput).mutation(({ ctx, input }) => {
      const mine = unacked.get(deviceKey(ctx.device));
      let acknowledged = 0;
      for (const id of input.ids) {
        const envelope = mine?.get(id);
        if (!envelope) continue;
        mine!.delete(id);
        acknowledged += 1;
        if (envelope.type === EnvelopeType.SERVER_DELIVERY_RECEIPT) continue;
        const receipt: DeliveredEnvelope = {
          id: nextId(),
          type: EnvelopeType.SERVER_DELIVERY_RECEIPT,
          senderAccountId: ctx.device.accountId,
          senderDeviceId: ctx.device.deviceId,
          messageId: envelope.messageId,
          content: "",
          serverTimestamp: Date.now(),
        };
        announce({ accountId: envelope.senderAccountId, deviceId: envelope.senderDeviceId }, receipt);
      }
      return { acknowledged };
    }),
  },
});

/** A device's envelopes as they are published, in arrival order; each is held until acknowledged. */
async function* streamOf(device: DeviceAddress, signal: AbortSignal | undefined) {
  const key = deviceKey(device);
  const waiting: DeliveredEnvelope[] = [];
  let wake: (() => void) | null = null;
  const unsubscribe = bus.subscribe(device, (notice) => {
    if (!notice.envelope) return;
    waiting.push(notice.envelope);
    wake?.();
  });
  const onAbort = () => wake?.();
  signal?.addEventListener("abort", onAbort);
  let mine = unacked.get(key);
  if (!mine) unacked.set(key, (mine = new Map()));
  try {
    await bus.ready?.();
    while (!signal?.aborted) {
      const envelope = waiting.shift();
      if (!envelope) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        continue;
      }
      mine.set(envelope.id, envelope);
      yield tracked(envelope.id, envelope);
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener("abort", onAbort);
  }
}

function contextOf(opts: CreateWSSContextFnOptions): Context {
  const token = opts.info.connectionParams?.token;
  return { device: typeof token === "string" && uuid.test(token) ? { accountId: token, deviceId: 1 } : null };
}

const trpcHandler = createHTTPHandler({ router, basePath: "/trpc/", createContext: () => ({ device: null }) });
const http = createServer((req, res) => trpcHandler(req, res));
const wss = new WebSocketServer({ server: http });
const budget = new SocketBudget(logger);
wss.on("connection", (socket) => budget.attach(socket));
applyWSSHandler({ wss, router, createContext: contextOf, keepAlive: { enabled: false } });
await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
const { port } = http.address() as AddressInfo;
console.log(JSON.stringify({ ready: true, url: `http://127.0.0.1:${port}/trpc`, wsUrl: `ws://127.0.0.1:${port}/trpc`, pid: process.pid }));

process.once("SIGTERM", () => {
  budget.close();
  wss.close();
  http.close();
  void Promise.resolve(bus.close?.()).then(() => process.exit(0));
});
