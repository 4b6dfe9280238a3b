import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnvelopeType } from "@handshake/crypto";
import { startTestMessenger, type TestMessenger } from "@handshake/messenger/testing";
import { HandshakeDevice } from "./index";

let messenger: TestMessenger;
let phoneCounter = 0;
// Valid German mobile numbers, distinct per device.
const nextPhone = () => `+4915123${String(100000 + phoneCounter++).padStart(6, "0")}`;

beforeAll(async () => {
  messenger = await startTestMessenger();
});
afterAll(async () => {
  await messenger?.close();
});

const register = (options: { oneTimePreKeys?: number } = {}) =>
  HandshakeDevice.register({ url: messenger.url, phoneNumber: nextPhone(), ...options });

describe("an end-to-end encrypted conversation", () => {
  it("two devices converse both ways; the first message is a PreKey message, later ones are not", async () => {
    const alice = await register();
    const bob = await register();
    await Promise.all([alice.connect(), bob.connect()]);

    const first = await alice.send(bob.accountId, "hello bob");
    expect(first.type).toBe(EnvelopeType.PREKEY_BUNDLE);
    const [atBob] = await bob.take(1);
    expect(atBob).toMatchObject({ text: "hello bob", type: EnvelopeType.PREKEY_BUNDLE, from: alice.address });

    const reply = await bob.send(alice.accountId, "hi alice");
    expect(reply.type).toBe(EnvelopeType.CIPHERTEXT);
    const [atAlice] = await alice.take(1);
    expect(atAlice?.text).toBe("hi alice");

    const second = await alice.send(bob.accountId, "how are you?");
    expect(second.type).toBe(EnvelopeType.CIPHERTEXT);
    const [again] = await bob.take(1);
    expect(again).toMatchObject({ text: "how are you?", type: EnvelopeType.CIPHERTEXT });

    await Promise.all([alice.close(), bob.close()]);
  });

  it("ten messages in a row arrive in order and decrypt", async () => {
    const alice = await register();
    const bob = await register();
    await bob.connect();
    const texts = Array.from({ length: 10 }, (_, i) => `message ${i}`);
    for (const text of texts) await alice.send(bob.accountId, text);
    const received = await bob.take(10);
    expect(received.map((m) => m.text)).toEqual(texts);
    expect(bob.failures).toEqual([]);
    await bob.close();
  });

  it("the sender gets a delivery receipt once the recipient acknowledged", async () => {
    const alice = await register();
    const bob = await register();
    await Promise.all([alice.connect(), bob.connect()]);
    const sent = await alice.send(bob.accountId, "did you get this?");
    await bob.take(1);
    const receipts = alice.receipts()[Symbol.asyncIterator]();
    const receipt = await receipts.next();
    expect(receipt.value).toMatchObject({ messageId: sent.messageId, by: bob.address });
    await Promise.all([alice.close(), bob.close()]);
  });
});

describe("store and forward", () => {
  const queued = async (accountId: string) => {
    const rows = await messenger.server.services.sql<{ n: number }[]>`
      select count(*)::int as n from envelopes where recipient_account_id = ${accountId}`;
    return rows[0]!.n;
  };

  it("queues messages for an offline recipient, delivers them on connect and deletes them after ack", async () => {
    const alice = await register();
    const bob = await register();
    for (let i = 0; i < 5; i++) await alice.send(bob.accountId, `while you were away ${i}`);
    expect(await queued(bob.accountId)).toBe(5);

    await bob.connect();
    const received = await bob.take(5);
    expect(received.map((m) => m.text)).toEqual([0, 1, 2, 3, 4].map((i) => `while you were away ${i}`));
    await bob.close(); // waits for the last ack
    expect(await queued(bob.accountId)).toBe(0);
  });

  it("a reconnect mid-stream resumes without loss or duplicates", async () => {
    const alice = await register();
    const bob = await register();
    await bob.connect();
    const texts = Array.from({ length: 30 }, (_, i) => `burst ${i}`);
    const sending = (async () => {
      for (const text of texts) await alice.send(bob.accountId, text);
    })();
    const firstPart = await bob.take(10);
    await bob.close();
    await sending;
    await bob.connect();
    const rest = await bob.take(20);
    const all = [...firstPart, ...rest].map((m) => m.text);
    expect(all).toEqual(texts);
    expect(new Set([...firstPart, ...rest].map((m) => m.envelopeId)).size).toBe(30);
    await bob.close();
  });

  it("a resend with the same message id stores and delivers one envelope", async () => {
    const alice = await register();
    const bob = await register();
    const messageId = crypto.randomUUID();
    const first = await alice.send(bob.accountId, "only once", { messageId });
    const second = await alice.send(bob.accountId, "only once", { messageId });
    expect(first.duplicate).toBe(false);
    expect(second).toMatchObject({ duplicate: true, envelopeId: first.envelopeId });
    expect(await queued(bob.accountId)).toBe(1);

    await bob.connect();
    const [message] = await bob.take(1);
    expect(message?.text).toBe("only once");
    await bob.close();
    // Even after delivery and ack, the id is remembered: a late resend is not a new message.
    const late = await alice.send(bob.accountId, "only once", { messageId });
    expect(late.duplicate).toBe(true);
    expect(await queued(bob.accountId)).toBe(0);
  });
});

describe("what the server may know", () => {
  it("plaintext canaries sent end to end appear in no table and no log line", async () => {
    const alice = await register();
    const bob = await register();
    await bob.connect();
    const canaries = Array.from({ length: 5 }, () => `CANARY-${crypto.randomUUID()}`);
    const ciphertexts: string[] = [];
    for (const canary of canaries) ciphertexts.push((await alice.send(bob.accountId, `secret: ${canary}`)).ciphertext);
    // Leave one undelivered in the queue so the queue itself is searched too.
    const offline = await register();
    await alice.send(offline.accountId, `secret: ${canaries[0]}`);
    const received = await bob.take(canaries.length);
    expect(received.map((m) => m.text)).toEqual(canaries.map((c) => `secret: ${c}`));
    await bob.close();

    const sql = messenger.server.services.sql;
    const tables = await sql<{ table_name: string }[]>`
      select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`;
    expect(tables.map((t) => t.table_name)).toContain("envelopes");
    for (const { table_name } of tables) {
      const rows = await sql.unsafe(`select t::text as row from "${table_name}" t`);
      for (const { row } of rows) {
        const text = String(row);
        const hex = Buffer.from(text).toString("hex");
        for (const canary of canaries) {
          expect(text, `table ${table_name}`).not.toContain(canary);
          expect(hex).not.toContain(Buffer.from(canary).toString("hex"));
        }
      }
    }
    expect(messenger.logLines.length).toBeGreaterThan(0);
    for (const line of messenger.logLines) {
      for (const canary of canaries) expect(line).not.toContain(canary);
      // Nor the ciphertext the server relayed (base64 or hex), nor any credential.
      for (const ciphertext of ciphertexts) {
        expect(line).not.toContain(ciphertext.slice(0, 40));
        expect(line).not.toContain(Buffer.from(ciphertext, "base64").toString("hex").slice(0, 40));
      }
      expect(line).not.toContain(alice.credential);
      expect(line).not.toContain(bob.credential.split(".")[2]);
    }
  });
});
