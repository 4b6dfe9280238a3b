/**
 * Defect 12 of issue 10: the acceptance deadline must end a holdout's inbox stream
 * that is already open, whether the simulation clock jumps past it (admin) or
 * flows past it (it runs at real speed); nothing more reaches that stream, and
 * what others send meanwhile is kept. Real server, PostgreSQL, WebSocket clients.
 */
import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { startTestMessenger, TEST_ADMIN_TOKEN, type TestMessenger } from "../testing";
import { httpApi, registerAccount, type TestAccount } from "../../test/helpers";

const BEFORE_ANNOUNCEMENT = new Date("2016-08-20T08:00:00Z");
const AFTER_ANNOUNCEMENT = "2016-08-26T12:00:00.000Z";

let messenger: TestMessenger | null = null;
afterEach(async () => {
  await messenger?.close();
  messenger = null;
});

interface Frame {
  id: number | null;
  result?: { type: string; data?: { data: { messageId: string } } };
  error?: { message: string; data?: { code?: string; reason?: string } };
}

/** Opens `account`'s inbox stream on a raw tRPC socket and records every frame. */
async function openInbox(m: TestMessenger, account: TestAccount) {
  const ws = new WebSocket(`${m.wsUrl}?connectionParams=1`, { perMessageDeflate: false });
  const frames: Frame[] = [];
  const waiting: { done: () => boolean; resolve: () => void }[] = [];
  ws.on("message", (raw) => {
    const text = raw.toString();
    if (text === "PING") return void ws.send("PONG");
    frames.push(JSON.parse(text) as Frame);
    for (const w of waiting.filter((w) => w.done())) w.resolve();
  });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  ws.send(JSON.stringify({ method: "connectionParams", data: { token: account.credential } }));
  ws.send(JSON.stringify({ id: 1, method: "subscription", params: { path: "inbox.stream", input: {} } }));
  const until = (done: () => boolean) => new Promise<void>((resolve) => (done() ? resolve() : waiting.push({ done, resolve })));
  await until(() => frames.some((f) => f.result?.type === "started"));
  return {
    ws,
    frames,
    until,
    delivered: () => frames.filter((f) => f.result?.type === "data").map((f) => f.result!.data!.data.messageId),
    ended: () => frames.find((f) => f.error),
  };
}

async function setup() {
  messenger = await startTestMessenger({ simStart: BEFORE_ANNOUNCEMENT, rateLimits: false });
  const m = messenger;
  const admin = httpApi(m.url, undefined, TEST_ADMIN_TOKEN);
  // Both registered before the announcement: existing users, served until the deadline.
  const holdout = await registerAccount(m.url);
  const accepter = await registerAccount(m.url);
  await admin.admin.setClock.mutate({ at: AFTER_ANNOUNCEMENT });
  await accepter.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true });
  const deadline = new Date((await holdout.api.terms.current.query()).acceptanceDeadline);
  const send = async (to: TestAccount) => {
    const messageId = randomUUID();
    await accepter.api.message.send.mutate({
      messageId,
      recipient: { accountId: to.accountId },
      type: 1,
      content: Buffer.from("opaque").toString("base64"),
    });
    return messageId;
  };
  return { m, admin, holdout, accepter, deadline, send };
}

async function expectEndedForTerms(inbox: Awaited<ReturnType<typeof openInbox>>) {
  await inbox.until(() => inbox.ended() !== undefined);
  expect(inbox.ended()!.error!.data).toMatchObject({ code: "FORBIDDEN", reason: "terms-not-accepted" });
  expect(inbox.ended()!.error!.message).toMatch(/had to be accepted by .*messages for you are kept meanwhile/);
}

describe("a holdout's open inbox stream at the acceptance deadline", () => {
  it("ends when the admin moves the clock past it; nothing more reaches it and the queue keeps what arrives", async () => {
    const { m, admin, holdout, accepter, deadline, send } = await setup();
    const holdoutInbox = await openInbox(m, holdout);
    const control = await openInbox(m, accepter);
    const before = await send(holdout);
    await holdoutInbox.until(() => holdoutInbox.delivered().includes(before));

    await admin.admin.setClock.mutate({ at: new Date(deadline.getTime() + 24 * 3600_000).toISOString() });
    // Others may still message the holdout: kept, not delivered to the ended stream.
    const after = await send(holdout);
    await holdoutInbox.until(() => holdoutInbox.ended() !== undefined || holdoutInbox.delivered().includes(after));
    expect(holdoutInbox.delivered()).toEqual([before]);
    await expectEndedForTerms(holdoutInbox);

    const toControl = await holdout.api.message.send.mutate({
      messageId: randomUUID(),
      recipient: { accountId: accepter.accountId },
      type: 1,
      content: Buffer.from("x").toString("base64"),
    }).then(() => "sent", (e: { data?: { code?: string } }) => e.data?.code);
    expect(toControl).toBe("FORBIDDEN"); // the holdout cannot send either
    // The accepter's stream is unaffected: a message to it arrives (so the server has moved on).
    const self = await accepter.api.message.send.mutate({
      messageId: randomUUID(),
      recipient: { accountId: accepter.accountId },
      type: 1,
      content: Buffer.from("x").toString("base64"),
    });
    await control.until(() => control.frames.some((f) => f.result?.type === "data"));
    expect(self.duplicate).toBe(false);
    expect(control.ended()).toBeUndefined();
    expect(holdoutInbox.delivered()).toEqual([before]);
    const queued = await m.server.services.sql<{ message_id: string }[]>`
      select message_id from envelopes where recipient_account_id = ${holdout.accountId} order by id`;
    expect(queued.map((r) => r.message_id)).toEqual([before, after]);
    expect(m.server.services.presence.openStreams()).toBe(1); // only the accepter's
    holdoutInbox.ws.close();
    control.ws.close();
  });

  it("ends when the clock flows past it by itself (the simulation clock runs at real speed)", async () => {
    const { m, admin, holdout, deadline, send } = await setup();
    await admin.admin.setClock.mutate({ at: new Date(deadline.getTime() - 2_500).toISOString() });
    const holdoutInbox = await openInbox(m, holdout);
    await expectEndedForTerms(holdoutInbox);
    expect(m.server.services.clock.now().getTime()).toBeGreaterThanOrEqual(deadline.getTime());
    const after = await send(holdout);
    const [row] = await m.server.services.sql<{ n: number }[]>`
      select count(*)::int as n from envelopes where message_id = ${after}`;
    expect(row!.n).toBe(1);
    expect(holdoutInbox.delivered()).toEqual([]);
    holdoutInbox.ws.close();
  });
});
